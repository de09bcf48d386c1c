// Registration of every Client-Server API area's routes. One function per area, each defined
// in that area's file. Called once at start-up on the main thread.
#pragma once

#include "homeserver/client/common.h"

namespace haven::client {

void register_server_info_routes(http::Router& r, ServerContext& ctx);  // server_info.cpp
void register_account_routes(http::Router& r, ServerContext& ctx);      // account.cpp
void register_admin_register_routes(http::Router& r, ServerContext& ctx);  // admin_register.cpp

// All of the above.
void register_client_routes(http::Router& r, ServerContext& ctx);

}  // namespace haven::client
