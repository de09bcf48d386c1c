// Client-Server API: room aliases (/directory/room/{roomAlias}, /rooms/{roomId}/aliases).
#include "appservices/appservices.h"
#include "homeserver/base/write.h"
#include "homeserver/client/appservice.h"
#include "homeserver/client/routes.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/ids.h"
#include "homeserver/rooms/power_levels.h"
#include "homeserver/rooms/remote_membership.h"
#include "homeserver/rooms/room_access.h"
#include "storage/keys.h"

namespace haven::client {

namespace {

using storage::KeyBuilder;
using storage::Table;

Status check_local_alias(ServerContext& ctx, const std::string& alias) {
  if (!rooms::is_valid_room_alias(alias)) return Error::invalid_param("Invalid room alias");
  if (rooms::server_name_of(alias) != ctx.server_name) {
    return Error::invalid_param("Room alias must be on this server");
  }
  return {};
}

// M_EXCLUSIVE when the alias lies in another party's exclusive namespace, or an application
// service names an alias outside its own namespaces.
Status check_alias_namespace(ServerContext& ctx, const std::string& alias, const Requester& who) {
  if (!ctx.appservices) return {};
  if (who.appservice && !who.appservice->is_interested_in_alias(alias)) {
    return Error::with(400, "M_EXCLUSIVE", "This alias is not in the application service's namespace");
  }
  const auto* owner = ctx.appservices->registry().exclusive_owner_of_alias(alias);
  if (owner && owner != who.appservice) {
    return Error::with(400, "M_EXCLUSIVE", "This alias is reserved by an application service");
  }
  return {};
}

void answer_alias(ServerContext& ctx, const http::ExchangePtr& ex, const std::string& alias) {
  auto txn = ctx.store->begin_read();
  auto v = txn->get(Table::kRoomAliases, alias);
  if (!v) return ex->reply_error(Error::not_found("Room alias " + alias + " not found"));
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "room_id", json::get_string(json::parse_trusted(*v), "room_id"), a);
  json::Value servers(rapidjson::kArrayType);
  servers.PushBack(json::str(ctx.server_name, a), a);
  json::set(d, "servers", std::move(servers), a);
  ex->reply_json(200, d);
}

// GET /directory/room/{roomAlias}: an unknown alias in an application service's namespace is
// first asked of the service, which may create it; another server's alias is asked of it.
void get_alias(ServerContext& ctx, const http::ExchangePtr& ex) {
  const std::string alias = ex->params[0];
  if (!rooms::is_valid_room_alias(alias))
    return ex->reply_error(Error::invalid_param("Invalid room alias"));
  if (rooms::server_name_of(alias) != ctx.server_name && ctx.remote_membership) {
    return ctx.remote_membership->resolve_alias(alias, [ex](Result<rooms::RemoteAlias> r) {
      if (!r.ok()) return ex->reply_error(r.error());
      auto d = json::object();
      auto& a = d.GetAllocator();
      json::set(d, "room_id", r->room_id, a);
      json::Value servers(rapidjson::kArrayType);
      for (const auto& server : r->servers) servers.PushBack(json::str(server, a), a);
      json::set(d, "servers", std::move(servers), a);
      ex->reply_json(200, d);
    });
  }
  ask_appservice_for_alias(ctx, alias, [&ctx, ex, alias] {
    if (!ex->closed()) answer_alias(ctx, ex, alias);
  });
}

// PUT /directory/room/{roomAlias}
void put_alias(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  std::string alias = ex->params[0];
  if (auto s = check_local_alias(ctx, alias); !s.ok()) return ex->reply_error(s.error());
  if (auto s = check_alias_namespace(ctx, alias, who); !s.ok()) return ex->reply_error(s.error());
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto room_id = json::required_string(*body, "room_id");
  if (!room_id.ok()) return ex->reply_error(room_id.error());
  {
    auto txn = ctx.store->begin_read();
    auto m = rooms::membership(*txn, who.user_id, *room_id);
    if (!m || m->membership != "join") {
      return ex->reply_error(Error::forbidden("You must be in the room to give it an alias"));
    }
  }
  write<bool>(
      *ctx.store,
      [alias, room = *room_id, who](storage::WriteTxn& txn) -> Result<bool> {
        if (txn.get(Table::kRoomAliases, alias)) {
          return Error::with(409, "M_UNKNOWN", "Room alias " + alias + " already exists");
        }
        auto rec = json::object();
        json::set(rec, "room_id", room, rec.GetAllocator());
        json::set(rec, "creator", who.user_id, rec.GetAllocator());
        HAVEN_TRY(check(txn.put(Table::kRoomAliases, alias, json::to_string(rec))));
        HAVEN_TRY(check(
            txn.put(Table::kRoomAliasesByRoom, KeyBuilder().str(room).tail(alias).build(), "")));
        return true;
      },
      reply_empty(ex));
}

// DELETE /directory/room/{roomAlias}: the alias's creator, a server admin, or a room member
// allowed to send m.room.canonical_alias.
void delete_alias(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  std::string alias = ex->params[0];
  if (auto s = check_local_alias(ctx, alias); !s.ok()) return ex->reply_error(s.error());
  write<bool>(
      *ctx.store,
      [alias, who](storage::WriteTxn& txn) -> Result<bool> {
        auto v = txn.get(Table::kRoomAliases, alias);
        if (!v) return Error::not_found("Room alias not found");
        auto rec = json::parse_trusted(*v);
        std::string room = json::get_string(rec, "room_id");
        bool allowed = who.admin || json::get_string(rec, "creator") == who.user_id;
        if (!allowed) {
          auto room_rec = rooms::get_room(txn, room);
          auto version = room_rec ? rooms::find_room_version(room_rec->version) : nullptr;
          if (version) {
            rooms::CurrentStateView state(txn, room);
            auto pl = rooms::power_levels(state, *version);
            allowed = rooms::membership_of(state, who.user_id) == "join" &&
                      pl.user_level(who.user_id) >= pl.event_level("m.room.canonical_alias", true);
          }
        }
        if (!allowed) return Error::forbidden("You may not delete this alias");
        HAVEN_TRY(check(txn.del(Table::kRoomAliases, alias)));
        HAVEN_TRY(
            check(txn.del(Table::kRoomAliasesByRoom, KeyBuilder().str(room).tail(alias).build())));
        return true;
      },
      reply_empty(ex));
}

// GET /rooms/{roomId}/aliases
void room_aliases(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  const std::string& room_id = ex->params[0];
  auto txn = ctx.store->begin_read();
  auto access = rooms::room_access(*txn, who.user_id, room_id);
  if (!access.ok()) return ex->reply_error(access.error());
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value list(rapidjson::kArrayType);
  std::string prefix = KeyBuilder().str(room_id).take();
  txn->scan(Table::kRoomAliasesByRoom, prefix, {}, storage::Direction::kForward,
            [&](std::string_view key, std::string_view) {
              list.PushBack(json::str(key.substr(prefix.size()), a), a);
              return true;
            });
  json::set(d, "aliases", std::move(list), a);
  ex->reply_json(200, d);
}

}  // namespace

void register_alias_routes(http::Router& r, ServerContext& ctx) {
  r.add("GET", v3("/directory/room/{roomAlias}"), [&ctx](auto& ex) { get_alias(ctx, ex); });
  add_authed(r, ctx, "PUT", v3("/directory/room/{roomAlias}"),
             [&ctx](auto& ex, auto& who) { put_alias(ctx, ex, who); });
  add_authed(r, ctx, "DELETE", v3("/directory/room/{roomAlias}"),
             [&ctx](auto& ex, auto& who) { delete_alias(ctx, ex, who); });
  add_authed(r, ctx, "GET", v3("/rooms/{roomId}/aliases"),
             [&ctx](auto& ex, auto& who) { room_aliases(ctx, ex, who); });
}

}  // namespace haven::client
