#include "federation/destinations.h"

#include "homeserver/rooms/event_store.h"

namespace haven::federation {

std::string server_of(std::string_view user_id) {
  auto colon = user_id.find(':');
  if (colon == std::string_view::npos) return {};
  return std::string(user_id.substr(colon + 1));
}

std::set<std::string> servers_in_room(storage::ReadTxn& txn, std::string_view room_id,
                                      std::string_view own_server) {
  std::set<std::string> out;
  for (const auto& [user_id, membership] : rooms::members_of_room(txn, room_id)) {
    if (membership != "join") continue;
    std::string server = server_of(user_id);
    if (!server.empty() && server != own_server) out.insert(std::move(server));
  }
  return out;
}

std::set<std::string> servers_sharing_rooms(storage::ReadTxn& txn, std::string_view user_id,
                                            std::string_view own_server) {
  std::set<std::string> out;
  for (const auto& [room_id, m] : rooms::rooms_of_user(txn, user_id)) {
    if (m.membership != "join") continue;
    out.merge(servers_in_room(txn, room_id, own_server));
  }
  return out;
}

}  // namespace haven::federation
