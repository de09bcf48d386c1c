// Which servers take part in a room, or share a room with a user: the destinations of PDUs and
// EDUs. Read-only; any thread, with a ReadTxn (or the writer's WriteTxn).
#pragma once

#include <set>
#include <string>
#include <string_view>

#include "storage/store.h"

namespace haven::federation {

// The server name of a user id ("@a:example.org:8448" -> "example.org:8448"); "" if none.
std::string server_of(std::string_view user_id);

// Servers other than `own_server` with a joined member in the room (current state).
std::set<std::string> servers_in_room(storage::ReadTxn& txn, std::string_view room_id,
                                      std::string_view own_server);

// Servers other than `own_server` with a joined member in a room where `user_id` is joined.
std::set<std::string> servers_sharing_rooms(storage::ReadTxn& txn, std::string_view user_id,
                                            std::string_view own_server);

}  // namespace haven::federation
