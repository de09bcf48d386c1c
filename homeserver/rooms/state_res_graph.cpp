// The set computations of state resolution: conflicts, auth chains, the auth difference and the
// conflicted state subgraph.
#include <unordered_map>
#include <unordered_set>

#include "homeserver/rooms/state_res_steps.h"

namespace haven::rooms::state_res {

namespace {

Error too_many_events() {
  return Error::too_large("State resolution would walk more than " +
                          std::to_string(kMaxStateResEvents) + " events");
}

// The entries of `set` that are not in the unconflicted state map.
std::vector<std::string> conflicted_entries(const StateIds& set, const StateIds& unconflicted) {
  std::vector<std::string> out;
  for (const auto& [key, id] : set) {
    auto it = unconflicted.find(key);
    if (it == unconflicted.end() || it->second != id) out.push_back(id);
  }
  return out;
}

}  // namespace

EventIdSet ConflictSplit::conflicted_ids() const {
  EventIdSet out;
  for (const auto& [key, ids] : conflicted) out.insert(ids.begin(), ids.end());
  return out;
}

ConflictSplit split_conflicts(const std::vector<StateIds>& state_sets) {
  ConflictSplit out;
  std::map<StateKey, std::pair<size_t, EventIdSet>> seen;  // key -> (sets holding it, values)
  for (const StateIds& set : state_sets) {
    for (const auto& [key, id] : set) {
      auto& [count, values] = seen[key];
      ++count;
      values.insert(id);
    }
  }
  for (auto& [key, entry] : seen) {
    auto& [count, values] = entry;
    if (count == state_sets.size() && values.size() == 1) {
      out.unconflicted.emplace(key, *values.begin());
    } else {
      out.conflicted.emplace(key, std::move(values));
    }
  }
  return out;
}

Result<EventIdSet> auth_chain(const EventSource& events, const std::vector<std::string>& start,
                              bool include_start, const EventIdSet& stop, size_t limit) {
  EventIdSet chain;
  std::vector<std::string> todo;
  for (const std::string& id : start) {
    if (stop.contains(id)) continue;
    if (include_start) {
      if (events.find(id) && chain.insert(id).second) todo.push_back(id);
    } else {
      todo.push_back(id);
    }
  }
  while (!todo.empty()) {
    EventPtr ev = events.find(todo.back());
    todo.pop_back();
    if (!ev) continue;
    for (const std::string& auth_id : ev->auth_events()) {
      if (stop.contains(auth_id) || chain.contains(auth_id) || !events.find(auth_id)) continue;
      if (chain.size() >= limit) return too_many_events();
      chain.insert(auth_id);
      todo.push_back(auth_id);
    }
  }
  return chain;
}

Result<EventIdSet> auth_difference(const EventSource& events,
                                   const std::vector<StateIds>& state_sets) {
  if (state_sets.size() < 2) return EventIdSet{};
  ConflictSplit split = split_conflicts(state_sets);
  // Every chain holds the unconflicted events and their auth chains (the "common" part), so
  // only the walk from each set's other events differs; it stops where the common part starts.
  std::vector<std::string> unconflicted_ids;
  for (const auto& [key, id] : split.unconflicted) unconflicted_ids.push_back(id);
  auto common = auth_chain(events, unconflicted_ids, true);
  if (!common.ok()) return std::move(common).error();
  std::map<std::string, size_t> chains_holding;
  for (const StateIds& set : state_sets) {
    auto own = auth_chain(events, conflicted_entries(set, split.unconflicted), true, *common);
    if (!own.ok()) return std::move(own).error();
    for (const std::string& id : *own) ++chains_holding[id];
  }
  EventIdSet difference;
  for (const auto& [id, count] : chains_holding) {
    if (count < state_sets.size()) difference.insert(id);
  }
  return difference;
}

Result<EventIdSet> conflicted_subgraph(const EventSource& events, const EventIdSet& conflicted) {
  std::vector<std::string> start(conflicted.begin(), conflicted.end());
  auto below = auth_chain(events, start, true);  // every event some conflicted event reaches
  if (!below.ok()) return std::move(below).error();
  // Of those, keep the ones from which a conflicted event is reachable: a post-order walk
  // (iterative, auth chains can be deep) deciding each event after its auth events.
  std::unordered_map<std::string, bool> reaches;
  std::unordered_set<std::string> open;  // expanded, not yet decided: guards against cycles
  for (const std::string& root : *below) {
    std::vector<std::pair<std::string, bool>> stack{{root, false}};
    while (!stack.empty()) {
      auto [id, expanded] = stack.back();
      stack.pop_back();
      if (reaches.contains(id)) continue;
      EventPtr ev = events.find(id);
      if (!expanded) {
        if (!open.insert(id).second) continue;
        stack.emplace_back(id, true);
        for (const std::string& a : ev->auth_events()) {
          if (below->contains(a) && !reaches.contains(a)) stack.emplace_back(a, false);
        }
        continue;
      }
      bool r = conflicted.contains(id);
      for (const std::string& a : ev->auth_events()) {
        auto it = reaches.find(a);
        if (it != reaches.end() && it->second) r = true;
      }
      reaches.emplace(id, r);
    }
  }
  EventIdSet subgraph;
  for (const auto& [id, r] : reaches) {
    if (r) subgraph.insert(id);
  }
  return subgraph;
}

}  // namespace haven::rooms::state_res
