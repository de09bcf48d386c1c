// What another server may read of a room over federation (/event, /state, /backfill...): it is
// in the room while one of its users is joined, and it may see an event when the history
// visibility at that event lets one of its users see it. Also the state and auth chain those
// endpoints answer with. Reads through a ReadTxn; any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/state_res.h"

namespace haven::rooms {

// True when a user of `server` is joined to the room in its current state.
bool server_in_room(storage::ReadTxn& txn, std::string_view server, std::string_view room_id);

// The state before a stored event (recorded, or resolved from its prev events); empty for the
// create event; nullopt when it cannot be known (an outlier's).
std::optional<StateIds> state_ids_before(storage::ReadTxn& txn, const Event& event);

// Whether `server` may see `event`: world_readable, or one of its users joined (or invited,
// under "invited") at the event, or, under "shared", `in_room_now`.
bool server_may_see_event(storage::ReadTxn& txn, std::string_view server, const Event& event,
                          bool in_room_now);

// The auth chain of `event_ids`: every event reachable through auth_events, the given ones
// excluded, at most `max` (stored events only), oldest depth first.
std::vector<EventPtr> auth_chain(storage::ReadTxn& txn, const std::vector<std::string>& event_ids,
                                 size_t max);

}  // namespace haven::rooms
