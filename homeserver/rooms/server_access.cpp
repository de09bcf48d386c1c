#include "homeserver/rooms/server_access.h"

#include <algorithm>
#include <deque>
#include <set>

#include "homeserver/rooms/ids.h"
#include "homeserver/rooms/state_at_event.h"

namespace haven::rooms {

namespace {

EventPtr load(storage::ReadTxn& txn, const StateIds& state, std::string_view type,
              std::string_view state_key) {
  auto it = state.find(StateKey{std::string(type), std::string(state_key)});
  if (it == state.end()) return nullptr;
  auto stored = get_event(txn, it->second);
  return stored ? stored->event : nullptr;
}

// The memberships of `server`'s users in `state`.
std::vector<std::string> memberships_of_server(storage::ReadTxn& txn, const StateIds& state,
                                               std::string_view server) {
  std::vector<std::string> out;
  for (auto it = state.lower_bound(StateKey{"m.room.member", ""});
       it != state.end() && it->first.first == "m.room.member"; ++it) {
    if (server_name_of(it->first.second) != server) continue;
    if (auto stored = get_event(txn, it->second)) out.push_back(stored->event->membership());
  }
  return out;
}

}  // namespace

bool server_in_room(storage::ReadTxn& txn, std::string_view server, std::string_view room_id) {
  for (const auto& [user, membership] : members_of_room(txn, room_id)) {
    if (membership == "join" && server_name_of(user) == server) return true;
  }
  return false;
}

std::optional<StateIds> state_ids_before(storage::ReadTxn& txn, const Event& event) {
  if (auto group = state_group_before(txn, event.event_id())) {
    return state_ids_at_group(txn, *group);
  }
  if (event.prev_events().empty()) return StateIds{};
  auto state = state_before_event(txn, event.version(), event.prev_events());
  if (!state.ok()) return std::nullopt;
  return std::move(*state);
}

bool server_may_see_event(storage::ReadTxn& txn, std::string_view server, const Event& event,
                          bool in_room_now) {
  auto state = state_ids_before(txn, event);
  if (!state) return false;
  StateMap visibility_state;
  visibility_state.set(load(txn, *state, "m.room.history_visibility", ""));
  const std::string visibility = history_visibility(visibility_state);
  if (visibility == "world_readable") return true;
  for (const std::string& m : memberships_of_server(txn, *state, server)) {
    if (m == "join" || (m == "invite" && visibility == "invited")) return true;
  }
  if (event.type() == "m.room.member" && event.state_key() &&
      server_name_of(*event.state_key()) == server && event.membership() == "join") {
    return true;
  }
  return visibility == "shared" && in_room_now;
}

std::vector<EventPtr> auth_chain(storage::ReadTxn& txn, const std::vector<std::string>& event_ids,
                                 size_t max) {
  std::set<std::string> seen(event_ids.begin(), event_ids.end());
  std::deque<std::string> queue;
  std::vector<EventPtr> out;
  auto push_auth_of = [&](const Event& ev) {
    for (const auto& id : ev.auth_events()) {
      if (seen.insert(id).second) queue.push_back(id);
    }
  };
  for (const auto& id : event_ids) {
    if (auto stored = get_event(txn, id)) push_auth_of(*stored->event);
  }
  while (!queue.empty() && out.size() < max) {
    auto stored = get_event(txn, queue.front());
    queue.pop_front();
    if (!stored) continue;
    push_auth_of(*stored->event);
    out.push_back(stored->event);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const EventPtr& a, const EventPtr& b) { return a->depth() < b->depth(); });
  return out;
}

}  // namespace haven::rooms
