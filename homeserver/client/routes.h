// Registration of every Client-Server API area's routes. One function per area, each defined
// in that area's file. Called once at start-up on the main thread.
#pragma once

#include "homeserver/client/common.h"

namespace haven::client {

void register_server_info_routes(http::Router& r, ServerContext& ctx);     // server_info.cpp
void register_account_routes(http::Router& r, ServerContext& ctx);         // account.cpp
void register_admin_register_routes(http::Router& r, ServerContext& ctx);  // admin_register.cpp
void register_registration_token_routes(http::Router& r, ServerContext& ctx);  // registration_tokens.cpp
void register_room_routes(http::Router& r, ServerContext& ctx);        // rooms.cpp (create, join..)
void register_event_routes(http::Router& r, ServerContext& ctx);       // events.cpp (send, state..)
void register_alias_routes(http::Router& r, ServerContext& ctx);        // directory.cpp
void register_room_directory_routes(http::Router& r, ServerContext& ctx);  // room_directory.cpp
void register_sync_routes(http::Router& r, ServerContext& ctx);        // sync.cpp
void register_sliding_sync_routes(http::Router& r, ServerContext& ctx);  // sliding_sync.cpp
void register_account_data_routes(http::Router& r, ServerContext& ctx);  // account_data.cpp
void register_filter_routes(http::Router& r, ServerContext& ctx);        // filters.cpp
void register_receipt_routes(http::Router& r, ServerContext& ctx);      // receipts.cpp
void register_typing_routes(http::Router& r, ServerContext& ctx);        // typing.cpp
void register_presence_routes(http::Router& r, ServerContext& ctx);      // presence.cpp
void register_device_routes(http::Router& r, ServerContext& ctx);        // devices.cpp
void register_profile_routes(http::Router& r, ServerContext& ctx);       // profile.cpp
void register_push_rule_routes(http::Router& r, ServerContext& ctx);     // push_rules.cpp
void register_directory_routes(http::Router& r, ServerContext& ctx);    // user_directory.cpp
void register_key_routes(http::Router& r, ServerContext& ctx);           // keys.cpp
void register_pusher_routes(http::Router& r, ServerContext& ctx);        // pushers.cpp
void register_to_device_routes(http::Router& r, ServerContext& ctx);     // to_device.cpp
void register_room_key_routes(http::Router& r, ServerContext& ctx);      // room_keys.cpp
void register_media_routes(http::Router& r, ServerContext& ctx);         // media.cpp
void register_care_routes(http::Router& r, ServerContext& ctx);          // care.cpp
void register_care_admin_routes(http::Router& r, ServerContext& ctx);    // admin_care.cpp
void register_email_admin_routes(http::Router& r, ServerContext& ctx);   // admin_email.cpp
void register_testing_routes(http::Router& r, ServerContext& ctx);       // admin_testing.cpp
void register_threepid_routes(http::Router& r, ServerContext& ctx);      // threepid.cpp
void register_admin_user_routes(http::Router& r, ServerContext& ctx);    // admin_users.cpp
void register_admin_room_routes(http::Router& r, ServerContext& ctx);    // admin_rooms.cpp
void register_admin_room_media_routes(http::Router& r, ServerContext& ctx);  // admin_room_media.cpp
void register_appservice_routes(http::Router& r, ServerContext& ctx);    // appservice.cpp
void register_delayed_event_routes(http::Router& r, ServerContext& ctx); // delayed_events.cpp
void register_voip_routes(http::Router& r, ServerContext& ctx);          // voip.cpp

// All of the above.
void register_client_routes(http::Router& r, ServerContext& ctx);

}  // namespace haven::client
