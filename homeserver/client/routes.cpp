#include "homeserver/client/routes.h"

namespace haven::client {

void register_client_routes(http::Router& r, ServerContext& ctx) {
  register_server_info_routes(r, ctx);
  register_account_routes(r, ctx);
  register_admin_register_routes(r, ctx);
  register_registration_token_routes(r, ctx);
  register_room_routes(r, ctx);
  register_event_routes(r, ctx);
  register_alias_routes(r, ctx);
  register_room_directory_routes(r, ctx);
  register_sync_routes(r, ctx);
  register_sliding_sync_routes(r, ctx);
  register_account_data_routes(r, ctx);
  register_filter_routes(r, ctx);
  register_receipt_routes(r, ctx);
  register_typing_routes(r, ctx);
  register_presence_routes(r, ctx);
  register_device_routes(r, ctx);
  register_profile_routes(r, ctx);
  register_push_rule_routes(r, ctx);
  register_directory_routes(r, ctx);
  register_key_routes(r, ctx);
  register_pusher_routes(r, ctx);
  register_to_device_routes(r, ctx);
  register_room_key_routes(r, ctx);
  register_media_routes(r, ctx);
  register_care_routes(r, ctx);
  register_care_admin_routes(r, ctx);
  register_email_admin_routes(r, ctx);
  register_testing_routes(r, ctx);
  register_threepid_routes(r, ctx);
  register_admin_user_routes(r, ctx);
  register_admin_room_routes(r, ctx);
  register_admin_room_media_routes(r, ctx);
  register_appservice_routes(r, ctx);
  register_delayed_event_routes(r, ctx);
  register_voip_routes(r, ctx);
}

}  // namespace haven::client
