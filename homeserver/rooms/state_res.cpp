#include "homeserver/rooms/state_res.h"

#include <unordered_map>

#include "homeserver/rooms/auth_rules.h"
#include "homeserver/rooms/state_res_steps.h"

namespace haven::rooms {

namespace {

using state_res::EventIdSet;

// The source one resolution reads through: each event fetched (and parsed) once, and events of
// other rooms treated as unknown. Lives for one resolve_state call on one thread.
class RoomEvents : public EventSource {
 public:
  explicit RoomEvents(const EventSource& inner) : inner_(inner) {}

  void set_room(std::string room_id) { room_id_ = std::move(room_id); }
  const std::string& room_id() const { return room_id_; }

  EventPtr find(std::string_view event_id) const override {
    std::string id(event_id);
    if (auto it = memo_.find(id); it != memo_.end()) return it->second;
    EventPtr ev = inner_.find(event_id);
    if (ev && !room_id_.empty() && ev->room_id() != room_id_) ev = nullptr;
    memo_.emplace(std::move(id), ev);
    return ev;
  }
  bool rejected(std::string_view event_id) const override { return inner_.rejected(event_id); }

 private:
  const EventSource& inner_;
  std::string room_id_;
  mutable std::unordered_map<std::string, EventPtr> memo_;
};

// The room of the first known event of the state sets ("" when none is known).
std::string room_of(const std::vector<StateIds>& state_sets, const EventSource& events) {
  for (const StateIds& set : state_sets) {
    for (const auto& [key, id] : set) {
      if (EventPtr ev = events.find(id)) return ev->room_id();
    }
  }
  return {};
}

// Adds `more` to `set`.
void add_all(EventIdSet& set, const EventIdSet& more) { set.insert(more.begin(), more.end()); }

// The full conflicted set, as known state events.
Result<std::vector<EventPtr>> full_conflicted_set(const RoomVersion& version,
                                                  const std::vector<StateIds>& state_sets,
                                                  const state_res::ConflictSplit& split,
                                                  const EventSource& events) {
  EventIdSet ids = split.conflicted_ids();
  auto difference = state_res::auth_difference(events, state_sets);
  if (!difference.ok()) return std::move(difference).error();
  if (version.state_res == StateResAlgorithm::kV2Empty) {
    auto subgraph = state_res::conflicted_subgraph(events, ids);
    if (!subgraph.ok()) return std::move(subgraph).error();
    add_all(ids, *subgraph);
  }
  add_all(ids, *difference);
  std::vector<EventPtr> out;
  for (const std::string& id : ids) {
    EventPtr ev = events.find(id);
    if (ev && ev->is_state()) out.push_back(std::move(ev));
  }
  return out;
}

}  // namespace

Result<StateIds> resolve_state(const RoomVersion& version, const std::vector<StateIds>& state_sets,
                               const EventSource& source) {
  if (state_sets.empty()) return StateIds{};
  state_res::ConflictSplit split = state_res::split_conflicts(state_sets);
  if (split.conflicted.empty()) return std::move(split.unconflicted);

  RoomEvents events(source);
  events.set_room(room_of(state_sets, source));
  auto full = full_conflicted_set(version, state_sets, split, events);
  if (!full.ok()) return std::move(full).error();
  EventIdSet full_ids;
  std::vector<EventPtr> power_events;
  for (const EventPtr& ev : *full) {
    full_ids.insert(ev->event_id());
    if (state_res::is_power_event(*ev)) power_events.push_back(ev);
  }

  // Steps 1 and 2: the power events and their conflicted auth chains, on the unconflicted
  // state (v2) or on nothing but their own auth events (v2.1).
  std::vector<EventPtr> sorted_power =
      state_res::reverse_topological_power_order(power_events, full_ids, version, events);
  StateIds base =
      version.state_res == StateResAlgorithm::kV2Empty ? StateIds{} : split.unconflicted;
  StateIds partial =
      state_res::iterative_auth_checks(version, sorted_power, std::move(base), events);

  // Steps 3 and 4: everything else, by mainline of the power levels resolved so far.
  EventIdSet in_power_order;
  for (const EventPtr& ev : sorted_power) in_power_order.insert(ev->event_id());
  std::vector<EventPtr> others;
  for (const EventPtr& ev : *full) {
    if (!in_power_order.contains(ev->event_id())) others.push_back(ev);
  }
  EventPtr resolved_pl;
  if (auto it = partial.find({"m.room.power_levels", ""}); it != partial.end()) {
    resolved_pl = events.find(it->second);
  }
  others = state_res::mainline_order(std::move(others), resolved_pl, events);
  StateIds resolved = state_res::iterative_auth_checks(version, others, std::move(partial), events);

  // Step 5: the unconflicted state map wins.
  for (auto& [key, id] : split.unconflicted) resolved[key] = id;
  return resolved;
}

}  // namespace haven::rooms
