// Client-Server API: the published room directory (/directory/list/room/{roomId},
// /publicRooms), this server's and, with ?server=, another server's through federation.
#include "homeserver/rooms/room_directory.h"

#include "homeserver/base/write.h"
#include "homeserver/client/routes.h"
#include "homeserver/policy/temporary_rooms.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/ids.h"
#include "homeserver/rooms/power_levels.h"
#include "homeserver/rooms/remote_directory.h"

namespace haven::client {

namespace {

Result<bool> parse_visibility(const json::Value& body) {
  auto visibility = json::optional_string(body, "visibility");
  if (!visibility.ok()) return std::move(visibility).error();
  std::string value = visibility->value_or("public");
  if (value != "public" && value != "private") {
    return Error::invalid_param("'visibility' must be 'public' or 'private'");
  }
  return value == "public";
}

// A server admin, or a joined member with the power to send m.room.canonical_alias: the
// people who already decide how the room is found by its address.
Status check_may_change_listing(storage::ReadTxn& txn, const std::string& room_id,
                                const Requester& who) {
  if (who.admin) return {};
  auto room = rooms::get_room(txn, room_id);
  auto version = room ? rooms::find_room_version(room->version) : nullptr;
  if (!version) return Error::not_found("Room not found");
  rooms::CurrentStateView state(txn, room_id);
  auto pl = rooms::power_levels(state, *version);
  if (rooms::membership_of(state, who.user_id) != "join" ||
      pl.user_level(who.user_id) < pl.event_level("m.room.canonical_alias", true)) {
    return Error::forbidden(
        "Only room members who may set the room's canonical alias can change its listing");
  }
  return {};
}

// GET /_matrix/client/v3/directory/list/room/{roomId}
void get_room_visibility_on_directory(ServerContext& ctx, const http::ExchangePtr& ex) {
  const std::string& room_id = ex->params[0];
  if (!rooms::is_valid_room_id(room_id))
    return ex->reply_error(Error::invalid_param("Invalid room id"));
  auto txn = ctx.store->begin_read();
  if (!txn) return ex->reply_error(Error::unknown("The store is not available"));
  if (!rooms::get_room(*txn, room_id)) return ex->reply_error(Error::not_found("Room not found"));
  auto d = json::object();
  json::set(d, "visibility", rooms::is_published(*txn, room_id) ? "public" : "private",
            d.GetAllocator());
  ex->reply_json(200, d);
}

// PUT /_matrix/client/v3/directory/list/room/{roomId}
void set_room_visibility_on_directory(ServerContext& ctx, const http::ExchangePtr& ex,
                                      const Requester& who) {
  const std::string room_id = ex->params[0];
  if (!rooms::is_valid_room_id(room_id))
    return ex->reply_error(Error::invalid_param("Invalid room id"));
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto publish = parse_visibility(*body);
  if (!publish.ok()) return ex->reply_error(publish.error());
  write<bool>(
      *ctx.store,
      [room_id, who, publish = *publish](storage::WriteTxn& txn) -> Result<bool> {
        if (!rooms::get_room(txn, room_id)) return Error::not_found("Room not found");
        HAVEN_TRY(check_may_change_listing(txn, room_id, who));
        if (publish) HAVEN_TRY(policy::check_publishable(txn, room_id));
        HAVEN_TRY(rooms::set_published(txn, room_id, publish));
        return true;
      },
      reply_empty(ex));
}

// Answers from this server's directory, or asks `server` for its own.
void answer_public_rooms(ServerContext& ctx, const http::ExchangePtr& ex,
                         const std::optional<std::string>& server, bool authenticated,
                         const Result<rooms::PublicRoomsQuery>& query, bool with_filter) {
  if (!query.ok()) return ex->reply_error(query.error());
  if (server && *server != ctx.server_name) {
    if (!rooms::is_valid_server_name(*server)) {
      return ex->reply_error(Error::invalid_param("'server' is not a valid server name"));
    }
    // Without a token anyone could make this server query arbitrary others.
    if (!authenticated) {
      return ex->reply_error(
          Error::missing_token("Listing another server's rooms needs an access token"));
    }
    if (!ctx.remote_directory) {
      return ex->reply_error(Error::forbidden("This server does not federate"));
    }
    return ctx.remote_directory->public_rooms(*server, *query, with_filter,
                                              [ex](Result<json::Document> r) {
                                                if (!r.ok()) return ex->reply_error(r.error());
                                                ex->reply_json(200, *r);
                                              });
  }
  auto txn = ctx.store->begin_read();
  if (!txn) return ex->reply_error(Error::unknown("The store is not available"));
  auto page = rooms::list_public_rooms(*txn, ctx.server_name, *query, /*for_federation=*/false);
  if (!page.ok()) return ex->reply_error(page.error());
  ex->reply_json(200, *page);
}

// GET /_matrix/client/v3/publicRooms: open to anyone (the spec gives it no security); a token,
// when sent, must be valid.
void get_public_rooms(ServerContext& ctx, const http::ExchangePtr& ex) {
  bool authenticated = false;
  if (access_token_of(*ex)) {
    auto who = authenticate(ctx, *ex);
    if (!who.ok()) return ex->reply_error(who.error());
    authenticated = true;
  }
  answer_public_rooms(ctx, ex, ex->query("server"), authenticated,
                      rooms::parse_public_rooms_params(ex->query("limit"), ex->query("since"),
                                                       ex->query("include_all_networks"),
                                                       ex->query("third_party_instance_id")),
                      /*with_filter=*/false);
}

// POST /_matrix/client/v3/publicRooms
void query_public_rooms(ServerContext& ctx, const http::ExchangePtr& ex) {
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  answer_public_rooms(ctx, ex, ex->query("server"), /*authenticated=*/true,
                      rooms::parse_public_rooms_body(*body), /*with_filter=*/true);
}

}  // namespace

void register_room_directory_routes(http::Router& r, ServerContext& ctx) {
  r.add("GET", v3("/directory/list/room/{roomId}"),
        [&ctx](auto& ex) { get_room_visibility_on_directory(ctx, ex); });
  add_authed(r, ctx, "PUT", v3("/directory/list/room/{roomId}"),
             [&ctx](auto& ex, auto& who) { set_room_visibility_on_directory(ctx, ex, who); });
  r.add("GET", v3("/publicRooms"), [&ctx](auto& ex) { get_public_rooms(ctx, ex); });
  add_authed(r, ctx, "POST", v3("/publicRooms"),
             [&ctx](auto& ex, auto&) { query_public_rooms(ctx, ex); });
}

}  // namespace haven::client
