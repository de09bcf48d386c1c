// The authorisation rules of room versions 10, 11 and 12: whether an event is allowed given
// the state it is checked against, and which state its auth_events must name.
// Pure functions; any thread.
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "homeserver/base/result.h"
#include "homeserver/rooms/event.h"
#include "homeserver/rooms/room_version.h"
#include "homeserver/rooms/state.h"

namespace haven::rooms {

// Checks `event` against `auth_state`: the state it is authorised by (its auth events, the
// state before it, or the current state). In v12 `auth_state` must also hold the room's
// m.room.create event, which auth_events never name. Verifies the presence of the required
// signatures (see servers_required_to_sign) but not their validity: that is the signature
// check every received event passes first. M_FORBIDDEN naming the failed rule.
Status check_auth(const Event& event, const StateView& auth_state, const RoomVersion& version);

// The spec's "auth events selection": the state keys an event's auth_events must be drawn
// from (create (not in v12), power_levels, the sender's member event; for member events the
// target's member event, join_rules, the third-party invite, the authorising user's member
// event). Empty for m.room.create.
std::vector<StateKey> auth_types_for_event(std::string_view type, std::string_view sender,
                                           const std::optional<std::string>& state_key,
                                           const rapidjson::Value& content,
                                           const RoomVersion& version);

// The rules on an event's auth_events list: every named event present (the caller leaves out
// rejected and unknown ones), no duplicate (type, state_key), nothing outside the selection,
// the create event among them (v10/v11), all in the event's room. Returns the state to pass
// to check_auth. `room_create` (v12 only): the create event the room id names.
Result<StateMap> auth_state_from_auth_events(const Event& event,
                                             const std::vector<EventPtr>& auth_events,
                                             const RoomVersion& version,
                                             EventPtr room_create = nullptr);

// The servers whose signatures an event must carry: the sender's (except for invites from a
// third-party invite) and, for member events with join_authorised_via_users_server, that
// user's server.
std::vector<std::string> servers_required_to_sign(const Event& event, const RoomVersion& version);

}  // namespace haven::rooms
