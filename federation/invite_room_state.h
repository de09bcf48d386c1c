// The checks of invite_room_state in an inbound invite (PUT /_matrix/federation/v2/invite,
// spec v1.16+): the m.room.create event is present, every entry is a full PDU formatted per the
// room version, signed by the servers that must sign it, and of the invite's room (in room
// version 12, whose room id is derived from the create event's id). Any failure is
// 400 M_INVALID_PARAM. Loop thread only (signing keys may be fetched).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "federation/key_ring.h"
#include "homeserver/base/json.h"
#include "homeserver/base/result.h"
#include "homeserver/rooms/event.h"

namespace haven::federation {

// Entries beyond this make the invite too large to keep.
inline constexpr size_t kMaxInviteRoomStateEvents = 50;

// The format and room checks, without signatures: the events of `body`'s invite_room_state.
Result<std::vector<rooms::EventPtr>> parse_invite_room_state(const json::Value& body,
                                                             const rooms::RoomVersion& version,
                                                             const std::string& room_id);

// Checks the signatures of `events` (from parse_invite_room_state); `done` gets them as the
// list of PDUs to keep with the invite (an event whose content hash does not match in its
// redacted form, as the spec treats such events), or M_INVALID_PARAM naming the first event
// with a bad signature.
void check_invite_room_state(KeyRing& keys, std::vector<rooms::EventPtr> events,
                             std::function<void(Result<json::Document>)> done);

}  // namespace haven::federation
