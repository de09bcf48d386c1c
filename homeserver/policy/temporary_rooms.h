// Temporary conversations (R19-R22): the createRoom marker that makes a room one, and how the
// care rules recognise it. A room is temporary when its m.room.create content holds
// {"org.haven.temporary": true} (clients ask for it in createRoom's creation_content); haven-care
// creates them through its REST API and deletes them when due. Pure or read-only; any thread.
#pragma once

#include <string_view>

#include "homeserver/base/json.h"
#include "homeserver/rooms/create_room.h"
#include "storage/store.h"

namespace haven::policy {

// The creation_content (and so m.room.create content) key that marks a temporary conversation.
inline constexpr std::string_view kTemporaryMarker = "org.haven.temporary";

bool is_temporary_create_content(const json::Value& content);
bool is_temporary_room(storage::ReadTxn& txn, std::string_view room_id);

// A temporary conversation is never listed in the published room directory: its members are
// the owner's contacts and invited guests only (R20), and it is deleted when due (R22), so a
// listing would only advertise it to people who may not join. M_FORBIDDEN with the reason.
Status check_publishable(storage::ReadTxn& txn, std::string_view room_id);
Status check_publishable(const rooms::CreateRoomRequest& request);

// A temporary conversation never leaves this server: its creation_content gets
// "m.federate": false whatever the request said. No-op for other rooms.
void force_unfederated_if_temporary(rooms::CreateRoomRequest& request);

}  // namespace haven::policy
