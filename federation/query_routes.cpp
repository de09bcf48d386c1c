// Federation API: queries about this server's users.
#include "federation/routes.h"
#include "homeserver/accounts/account_store.h"
#include "homeserver/base/json.h"
#include "homeserver/rooms/ids.h"

namespace haven::federation {

void register_query_routes(http::Router& router, RequestVerifier& verifier, storage::Store& store,
                           const conf::Config& config) {
  // GET /_matrix/federation/v1/query/profile
  verifier.add_route(
      router, "GET", "/_matrix/federation/v1/query/profile",
      [&store, &config](const http::ExchangePtr& ex, const std::string& origin) {
        auto user_id = ex->query("user_id");
        if (!user_id) return ex->reply_error(Error::missing_param("Missing user_id"));
        auto field = ex->query("field");
        if (field && *field != "displayname" && *field != "avatar_url") {
          return ex->reply_error(Error::invalid_param("field must be displayname or avatar_url"));
        }
        if (!rooms::is_valid_user_id(*user_id) ||
            rooms::server_name_of(*user_id) != config.server_name) {
          return ex->reply_error(Error::invalid_param("user_id is not a user of this server"));
        }
        // Under the care rules a profile is shown only to its owner's contacts, and no other
        // server is anyone's contact: to them the user does not exist.
        if (config.care.enabled) return ex->reply_error(Error::not_found("Profile not found"));
        auto txn = store.begin_read();
        auto user = txn ? accounts::get_user(*txn, *user_id) : std::nullopt;
        if (!user || user->deactivated) {
          return ex->reply_error(Error::not_found("Profile not found"));
        }
        auto d = json::object();
        auto& a = d.GetAllocator();
        if ((!field || *field == "displayname") && !user->displayname.empty()) {
          json::set(d, "displayname", user->displayname, a);
        }
        if ((!field || *field == "avatar_url") && !user->avatar_url.empty()) {
          json::set(d, "avatar_url", user->avatar_url, a);
        }
        ex->reply_json(200, d);
      });
}

}  // namespace haven::federation
