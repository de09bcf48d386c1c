// The two orderings of state resolution: the reverse topological power ordering (step 1) and
// the mainline ordering (step 3).
#include <algorithm>
#include <limits>
#include <tuple>
#include <unordered_map>

#include "homeserver/rooms/power_levels.h"
#include "homeserver/rooms/state_res_steps.h"

namespace haven::rooms::state_res {

namespace {

// The auth event of `event` with this (type, state_key), or nullptr.
EventPtr auth_event_of(const Event& event, std::string_view type, const EventSource& events) {
  for (const std::string& id : event.auth_events()) {
    EventPtr ev = events.find(id);
    if (ev && ev->is_state_event(type, "")) return ev;
  }
  return nullptr;
}

// The graph of step 1: each event -> its auth events in the full conflicted set.
using AuthGraph = std::map<std::string, EventIdSet>;

AuthGraph power_event_graph(const std::vector<EventPtr>& power_events,
                            const EventIdSet& full_conflicted_set, const EventSource& events) {
  AuthGraph graph;
  std::vector<EventPtr> todo(power_events.begin(), power_events.end());
  while (!todo.empty()) {
    EventPtr ev = std::move(todo.back());
    todo.pop_back();
    auto [node, added] = graph.try_emplace(ev->event_id());
    if (!added) continue;
    for (const std::string& auth_id : ev->auth_events()) {
      if (!full_conflicted_set.contains(auth_id)) continue;
      EventPtr auth = events.find(auth_id);
      if (!auth) continue;
      node->second.insert(auth_id);
      if (!graph.contains(auth_id)) todo.push_back(std::move(auth));
    }
  }
  return graph;
}

// Sort key of the power ordering: smaller is earlier.
using PowerKey = std::tuple<int64_t, int64_t, std::string>;  // (-power, ts, event id)

}  // namespace

std::string create_event_id_of_room(std::string_view room_id) {
  return room_id.empty() ? std::string() : "$" + std::string(room_id.substr(1));
}

bool is_power_event(const Event& event) {
  if (event.is_state_event("m.room.power_levels", "")) return true;
  if (event.is_state_event("m.room.join_rules", "")) return true;
  if (event.type() != "m.room.member" || !event.state_key()) return false;
  std::string m = event.membership();
  return (m == "leave" || m == "ban") && *event.state_key() != event.sender();
}

int64_t sender_power_level(const Event& event, const RoomVersion& version,
                           const EventSource& events) {
  EventPtr pl = auth_event_of(event, "m.room.power_levels", events);
  EventPtr create = version.room_id_from_create_event
                        ? events.find(create_event_id_of_room(event.room_id()))
                        : auth_event_of(event, "m.room.create", events);
  return PowerLevels::from_events(pl.get(), create.get(), version).user_level(event.sender());
}

std::vector<EventPtr> reverse_topological_power_order(const std::vector<EventPtr>& power_events,
                                                      const EventIdSet& full_conflicted_set,
                                                      const RoomVersion& version,
                                                      const EventSource& events) {
  AuthGraph graph = power_event_graph(power_events, full_conflicted_set, events);
  std::map<std::string, EventPtr> by_id;
  std::map<std::string, EventIdSet> needed_by;  // auth event -> events in the graph citing it
  std::map<std::string, size_t> waiting_on;     // event -> auth events not yet output
  std::set<std::pair<PowerKey, std::string>> ready;
  auto key_of = [&](const EventPtr& ev) {
    int64_t power = sender_power_level(*ev, version, events);
    return PowerKey{-power, ev->origin_server_ts(), ev->event_id()};
  };
  for (const auto& [id, auth_ids] : graph) {
    EventPtr ev = events.find(id);
    by_id.emplace(id, ev);
    waiting_on[id] = auth_ids.size();
    for (const std::string& a : auth_ids) needed_by[a].insert(id);
    if (auth_ids.empty()) ready.emplace(key_of(ev), id);
  }
  std::vector<EventPtr> sorted;
  while (!ready.empty()) {
    std::string id = ready.begin()->second;
    ready.erase(ready.begin());
    sorted.push_back(by_id.at(id));
    for (const std::string& parent : needed_by[id]) {
      if (--waiting_on[parent] == 0) ready.emplace(key_of(by_id.at(parent)), parent);
    }
  }
  return sorted;
}

std::vector<EventPtr> mainline_order(std::vector<EventPtr> events, const EventPtr& power_levels,
                                     const EventSource& events_source) {
  // Position i of each mainline event, P0 (the resolved power levels) at 0.
  std::unordered_map<std::string, int64_t> position;
  int64_t i = 0;
  for (EventPtr p = power_levels; p && !position.contains(p->event_id());
       p = auth_event_of(*p, "m.room.power_levels", events_source)) {
    position.emplace(p->event_id(), i++);
  }
  constexpr int64_t kOffMainline = std::numeric_limits<int64_t>::max();
  // The mainline position of an event: that of the first power levels event of its chain (its
  // own excluded) on the mainline. Remembered for every power levels event the walks pass.
  std::unordered_map<std::string, int64_t> known;
  auto mainline_position = [&](const Event& e) {
    std::vector<std::string> path;
    int64_t found = kOffMainline;
    for (EventPtr p = auth_event_of(e, "m.room.power_levels", events_source); p;
         p = auth_event_of(*p, "m.room.power_levels", events_source)) {
      if (auto it = position.find(p->event_id()); it != position.end()) {
        found = it->second;
        break;
      }
      if (auto it = known.find(p->event_id()); it != known.end()) {
        found = it->second;
        break;
      }
      if (path.size() > kMaxStateResEvents) break;
      path.push_back(p->event_id());
    }
    for (const std::string& id : path) known.emplace(id, found);
    return found;
  };
  std::vector<std::pair<std::tuple<int64_t, int64_t, std::string>, EventPtr>> keyed;
  for (EventPtr& ev : events) {
    // A greater mainline position sorts first.
    keyed.push_back({{-mainline_position(*ev), ev->origin_server_ts(), ev->event_id()}, ev});
  }
  std::sort(keyed.begin(), keyed.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<EventPtr> sorted;
  for (auto& [key, ev] : keyed) sorted.push_back(std::move(ev));
  return sorted;
}

}  // namespace haven::rooms::state_res
