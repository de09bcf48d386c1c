// End-to-end encryption keys in the Client-Server API (keys.cpp): what other client areas call
// when a device's keys go away. Loop thread only.
#pragma once

#include <string>

#include "homeserver/server_context.h"

namespace haven::client {

// Wakes the /sync of everyone who shares a room with `user_id` (the user included) after the
// user's device list changed (the change itself is e2ee::mark_device_list_changed, made in
// the same write job as the device change).
void notify_device_list_changed(ServerContext& ctx, const std::string& user_id);

}  // namespace haven::client
