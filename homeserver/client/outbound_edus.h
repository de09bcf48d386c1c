// The EDUs local users' actions send to other servers: typing (m.typing) and public read
// receipts (m.receipt) to the servers in the room, presence (m.presence) to the servers sharing
// a room with the user. Nothing when federation is off (ServerContext::outbound unset).
// Loop thread only.
#pragma once

#include <cstdint>
#include <string>

#include "homeserver/server_context.h"

namespace haven::client {

void send_typing_edu(ServerContext& ctx, const std::string& room_id, const std::string& user_id,
                     bool typing);
void send_receipt_edu(ServerContext& ctx, const std::string& room_id, const std::string& user_id,
                      const std::string& event_id, const std::string& thread_id, int64_t ts);
void send_presence_edu(ServerContext& ctx, const std::string& user_id);

}  // namespace haven::client
