// Federation API: queries about this server's users and room aliases.
#include <algorithm>

#include "federation/routes.h"
#include "homeserver/accounts/account_store.h"
#include "homeserver/base/json.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/ids.h"
#include "storage/keys.h"

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
  // GET /_matrix/federation/v1/query/directory
  verifier.add_route(
      router, "GET", "/_matrix/federation/v1/query/directory",
      [&store, &config](const http::ExchangePtr& ex, const std::string&) {
        auto alias = ex->query("room_alias");
        if (!alias) return ex->reply_error(Error::missing_param("Missing room_alias"));
        if (!rooms::is_valid_room_alias(*alias) ||
            rooms::server_name_of(*alias) != config.server_name) {
          return ex->reply_error(Error::invalid_param("room_alias is not an alias of this server"));
        }
        auto txn = store.begin_read();
        auto record = txn ? txn->get(storage::Table::kRoomAliases, *alias) : std::nullopt;
        if (!record) return ex->reply_error(Error::not_found("Room alias not found"));
        std::string room_id = json::get_string(json::parse_trusted(*record), "room_id");
        // This server first, then every other server with a joined member.
        std::vector<std::string> servers{config.server_name};
        for (const auto& [user, membership] : rooms::members_of_room(*txn, room_id)) {
          std::string server(rooms::server_name_of(user));
          if (membership == "join" &&
              std::find(servers.begin(), servers.end(), server) == servers.end()) {
            servers.push_back(std::move(server));
          }
        }
        auto d = json::object();
        auto& a = d.GetAllocator();
        json::set(d, "room_id", room_id, a);
        json::Value list(rapidjson::kArrayType);
        for (const auto& server : servers) list.PushBack(json::str(server, a), a);
        json::set(d, "servers", std::move(list), a);
        ex->reply_json(200, d);
      });
}

}  // namespace haven::federation
