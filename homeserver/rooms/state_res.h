// State resolution v2 (rooms v10, v11) and v2.1 (room v12, MSC4297): the one state of a room
// where its DAG has forked, from the states after each fork's tip. Pure: reads events only
// through an EventSource. Any thread; CPU-heavy for big rooms, so the caller may run it on a
// worker with a source that is safe there.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "homeserver/base/result.h"
#include "homeserver/rooms/event.h"
#include "homeserver/rooms/room_version.h"
#include "homeserver/rooms/state.h"

namespace haven::rooms {

// A room state by event id: (type, state_key) -> event id.
using StateIds = std::map<StateKey, std::string>;

// Where state resolution reads events: the event store, or an in-memory map in tests.
class EventSource {
 public:
  virtual ~EventSource() = default;
  // The event with this id, or nullptr when it is not known.
  virtual EventPtr find(std::string_view event_id) const = 0;
  // True for an event rejected by the auth rules (it is never used as an auth event).
  virtual bool rejected(std::string_view /*event_id*/) const { return false; }
};

// Bounds the work one resolution may do: the events its auth chain walks may visit.
constexpr size_t kMaxStateResEvents = 1 << 20;

// The resolution of `state_sets` (the states after each prev event) under `version`'s
// algorithm. The result does not depend on the order of `state_sets`. Conflicted events and
// auth events that `events` does not know (or knows in another room) take no part, as in
// Synapse and Ruma; unconflicted ones are kept as given. M_TOO_LARGE when the auth chains
// walked exceed kMaxStateResEvents events.
Result<StateIds> resolve_state(const RoomVersion& version, const std::vector<StateIds>& state_sets,
                               const EventSource& events);

}  // namespace haven::rooms
