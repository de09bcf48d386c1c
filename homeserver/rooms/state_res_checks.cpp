// The iterative auth checks of state resolution (steps 2 and 4).
#include "homeserver/rooms/auth_rules.h"
#include "homeserver/rooms/state_res_steps.h"

namespace haven::rooms::state_res {

namespace {

// The state `event` is checked against: for each key the auth rules read, the partially
// resolved state's event, else the event's own auth event for that key; neither if rejected.
StateMap auth_state_for(const Event& event, const RoomVersion& version, const StateIds& state,
                        const EventSource& events) {
  StateMap auth_state;
  for (const std::string& id : event.auth_events()) {
    EventPtr ev = events.find(id);
    if (ev && ev->is_state() && !events.rejected(id)) auth_state.set(std::move(ev));
  }
  auto keys = auth_types_for_event(event.type(), event.sender(), event.state_key(), event.content(),
                                   version);
  StateMap out;
  for (const StateKey& key : keys) {
    EventPtr chosen;
    if (auto it = state.find(key); it != state.end() && !events.rejected(it->second)) {
      chosen = events.find(it->second);
    }
    if (!chosen) chosen = auth_state.get(key.first, key.second);
    out.set(std::move(chosen));
  }
  // v12 events never cite the create event: the room id names it.
  if (version.room_id_from_create_event) {
    out.set(events.find(create_event_id_of_room(event.room_id())));
  }
  return out;
}

}  // namespace

StateIds iterative_auth_checks(const RoomVersion& version, const std::vector<EventPtr>& sorted,
                               StateIds state, const EventSource& events) {
  for (const EventPtr& ev : sorted) {
    if (!ev->is_state()) continue;
    StateMap auth_state = auth_state_for(*ev, version, state, events);
    if (check_auth(*ev, auth_state, version).ok()) {
      state[{ev->type(), *ev->state_key()}] = ev->event_id();
    }
  }
  return state;
}

}  // namespace haven::rooms::state_res
