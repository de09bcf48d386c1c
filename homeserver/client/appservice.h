// Asking application services about users and aliases this server does not know yet (the
// service may create them before it answers). Loop thread only; the HTTP call runs on the
// worker pool and `then` runs on the loop afterwards, whatever the service answered.
#pragma once

#include <functional>
#include <string>

#include "homeserver/client/common.h"

namespace haven::client {

// When `user_id` is a local user that does not exist and lies in a service's exclusive user
// namespace, asks that service (GET /_matrix/app/v1/users/{userId}); else `then` runs at once.
void ask_appservice_for_user(ServerContext& ctx, const std::string& user_id,
                             std::function<void()> then);
// The same for a local room alias (GET /_matrix/app/v1/rooms/{roomAlias}), asking the services
// that have it in a namespace.
void ask_appservice_for_alias(ServerContext& ctx, const std::string& alias,
                              std::function<void()> then);

}  // namespace haven::client

namespace haven::client {

// Ephemeral events for the application services that receive them (MSC2409, Matrix 1.13).
void appservice_typing(ServerContext& ctx, const std::string& room_id);
void appservice_receipt(ServerContext& ctx, const std::string& room_id,
                        const std::string& receipt_type, const std::string& event_id,
                        const std::string& user_id, const std::string& thread_id, int64_t ts);
void appservice_presence(ServerContext& ctx, const std::string& user_id);

}  // namespace haven::client
