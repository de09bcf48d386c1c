// Stripped state: the few state events that let someone invited to (or knocking on) a room
// identify it, as full PDUs for other servers (invite_room_state) and stripped to
// {type, state_key, sender, content} for clients. Pure functions over a read transaction; any
// thread.
#pragma once

#include <array>
#include <string_view>

#include "homeserver/base/json.h"
#include "storage/store.h"

namespace haven::rooms {

// The state types (state key "") the spec lists for stripped state; m.room.create first, as
// invite_room_state must hold it.
inline constexpr std::array<std::string_view, 7> kStrippedStateTypes = {
    "m.room.create",          "m.room.join_rules", "m.room.name", "m.room.avatar",
    "m.room.canonical_alias", "m.room.encryption", "m.room.topic"};

// invite_room_state for an invite into a room this server holds: the current PDUs of
// kStrippedStateTypes and the inviter's member event, each without "unsigned".
json::Document invite_room_state_pdus(storage::ReadTxn& txn, std::string_view room_id,
                                      std::string_view inviter);

// The stripped form of one event (a full PDU or an already stripped event):
// {type, state_key, sender, content}; an empty object when it lacks one of them.
json::Value strip_event(const json::Value& event, json::Alloc& a);

}  // namespace haven::rooms
