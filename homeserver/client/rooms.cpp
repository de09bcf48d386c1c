// Client-Server API: creating rooms, membership (join, knock, invite, leave, kick, ban, unban,
// forget), aliases, joined rooms and member lists.
#include <spdlog/spdlog.h>

#include <limits>

#include "homeserver/accounts/account_store.h"
#include "homeserver/base/write.h"
#include "homeserver/client/event_format.h"
#include "homeserver/client/remote_invite.h"
#include "homeserver/client/room_send.h"
#include "homeserver/client/routes.h"
#include "homeserver/policy/care_rules.h"
#include "homeserver/policy/conversation_template.h"
#include "homeserver/policy/temporary_rooms.h"
#include "homeserver/rooms/create_room.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/ids.h"
#include "homeserver/rooms/remote_membership.h"
#include "homeserver/rooms/room_access.h"
#include "homeserver/rooms/room_directory.h"
#include "homeserver/rooms/room_purge.h"
#include "homeserver/sync/notifier.h"
#include "storage/keys.h"

namespace haven::client {

namespace {

using storage::KeyBuilder;
using storage::Table;

Status check_room_id(const std::string& room_id) {
  if (!rooms::is_valid_room_id(room_id)) return Error::invalid_param("Invalid room id");
  return {};
}

// The room an id-or-alias names: aliases resolve through the local directory.
Result<std::string> resolve_room(ServerContext& ctx, const std::string& id_or_alias) {
  if (!id_or_alias.empty() && id_or_alias[0] == '#') {
    if (!rooms::is_valid_room_alias(id_or_alias)) return Error::invalid_param("Invalid alias");
    auto txn = ctx.store->begin_read();
    auto v = txn->get(Table::kRoomAliases, id_or_alias);
    if (!v) return Error::not_found("Room alias not found");
    return json::get_string(json::parse_trusted(*v), "room_id");
  }
  HAVEN_TRY(check_room_id(id_or_alias));
  return id_or_alias;
}

// A membership event's content for `target`, with their profile for joins and invites.
json::Document member_content(ServerContext& ctx, const std::string& membership,
                              const std::string& target, const json::Value& body) {
  auto content = json::object();
  auto& a = content.GetAllocator();
  json::set(content, "membership", membership, a);
  if (auto reason = json::get_string(body, "reason"); !reason.empty()) {
    json::set(content, "reason", reason, a);
  }
  if (membership == "join" || membership == "invite") {
    auto txn = ctx.store->begin_read();
    if (auto u = accounts::get_user(*txn, target); u) {
      if (!u->displayname.empty()) json::set(content, "displayname", u->displayname, a);
      if (!u->avatar_url.empty()) json::set(content, "avatar_url", u->avatar_url, a);
    }
  }
  return content;
}

void send_membership(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who,
                     const std::string& room_id, const std::string& target,
                     const std::string& membership, const json::Value& body,
                     std::function<void()> on_ok) {
  if (auto s = check_room_id(room_id); !s.ok()) return ex->reply_error(s.error());
  if (!rooms::is_valid_user_id(target))
    return ex->reply_error(Error::invalid_param("Invalid user id"));
  {
    auto txn = ctx.store->begin_read();
    if ((membership == "join" || membership == "invite") && rooms::room_block(*txn, room_id)) {
      return ex->reply_error(Error::forbidden("This room has been blocked on this server"));
    }
    if (!rooms::get_room(*txn, room_id)) {
      return ex->reply_error(membership == "join"
                                 ? Error::not_found("No known servers to join this room through")
                                 : Error::forbidden("You aren't a member of this room"));
    }
  }
  auto draft = make_draft(room_id, who.user_id, "m.room.member", target,
                          member_content(ctx, membership, target, body));
  send_event(ctx, std::move(draft), std::nullopt,
             [ex, on_ok = std::move(on_ok)](Result<std::string> r) {
               if (!r.ok()) return ex->reply_error(r.error());
               on_ok();
             });
}

void reply_room_id(const http::ExchangePtr& ex, const std::string& room_id) {
  auto d = json::object();
  json::set(d, "room_id", room_id, d.GetAllocator());
  ex->reply_json(200, d);
}

// The createRoom invitees of other servers, one after the other, once the room exists. A
// refused invite does not undo the room: the creator sees who is invited and may try again.
void invite_remote_invitees(ServerContext& ctx, const std::string& creator,
                            const std::string& room_id, std::vector<std::string> invitees,
                            bool is_direct, std::function<void()> done) {
  if (invitees.empty()) return done();
  std::string target = std::move(invitees.back());
  invitees.pop_back();
  auto content = json::object();
  json::set(content, "membership", "invite", content.GetAllocator());
  if (is_direct) json::set(content, "is_direct", true, content.GetAllocator());
  invite_remote_user(ctx, creator, room_id, target, std::move(content),
                     [&ctx, creator, room_id, target, invitees = std::move(invitees), is_direct,
                      done = std::move(done)](Status s) mutable {
                       if (!s.ok()) {
                         spdlog::info("createRoom: the invite of {} to {} failed: {}", target,
                                      room_id, s.error().message);
                       }
                       invite_remote_invitees(ctx, creator, room_id, std::move(invitees), is_direct,
                                              std::move(done));
                     });
}

// POST /_matrix/client/v3/createRoom
void create_room(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto request = rooms::parse_create_room_request(*body);
  if (!request.ok()) return ex->reply_error(request.error());
  if (ctx.care) {
    auto applied = policy::apply_conversation_template(ctx.care->config(), *request, who.user_id);
    if (!applied.ok()) return ex->reply_error(applied.error());
    policy::force_unfederated_if_temporary(*request);
  }
  if (auto s = policy::check_publishable(*request); !s.ok()) return ex->reply_error(s.error());
  std::string version_id = request->room_version.value_or(ctx.config.default_room_version);
  const rooms::RoomVersion* version = rooms::find_room_version(version_id);
  if (!version) {
    return ex->reply_error(Error::with(400, "M_UNSUPPORTED_ROOM_VERSION",
                                       "This server does not support that room version"));
  }
  std::string alias;
  if (request->room_alias_name) {
    alias = "#" + *request->room_alias_name + ":" + ctx.server_name;
    if (!rooms::is_valid_room_alias(alias)) {
      return ex->reply_error(Error::invalid_param("Invalid room_alias_name"));
    }
  }
  auto req = std::make_shared<rooms::CreateRoomRequest>(std::move(request.value()));
  auto sent = std::make_shared<std::vector<rooms::EventPtr>>();
  rooms::LocalServer server = local_server(ctx);
  rooms::CreateRoomOptions options;
  options.encrypt_by_default = ctx.config.encryption_enabled_by_default;
  options.invite_remote_users_later = ctx.remote_membership != nullptr;
  {
    auto txn = ctx.store->begin_read();
    if (auto u = accounts::get_user(*txn, who.user_id); u) {
      if (!u->displayname.empty()) options.creator_displayname = u->displayname;
      if (!u->avatar_url.empty()) options.creator_avatar_url = u->avatar_url;
    }
  }
  write<std::string>(
      *ctx.store,
      [req, server, who, version, alias, options,
       sent](storage::WriteTxn& txn) -> Result<std::string> {
        if (!alias.empty() && txn.get(Table::kRoomAliases, alias)) {
          return Error::with(400, "M_ROOM_IN_USE", "Room alias already taken");
        }
        auto events = rooms::create_room(txn, server, *req, who.user_id, *version, options);
        if (!events.ok()) return std::move(events).error();
        std::string room_id = events->front().event->room_id();
        if (req->visibility_public) HAVEN_TRY(rooms::set_published(txn, room_id, true));
        if (!alias.empty()) {
          auto rec = json::object();
          json::set(rec, "room_id", room_id, rec.GetAllocator());
          json::set(rec, "creator", who.user_id, rec.GetAllocator());
          HAVEN_TRY(check(txn.put(Table::kRoomAliases, alias, json::to_string(rec))));
          HAVEN_TRY(check(txn.put(Table::kRoomAliasesByRoom,
                                  KeyBuilder().str(room_id).tail(alias).build(), "")));
        }
        sent->clear();
        for (auto& e : *events) sent->push_back(e.event);
        return room_id;
      },
      [&ctx, ex, sent, req, who](Result<std::string> r) {
        if (!r.ok()) return ex->reply_error(r.error());
        for (auto& e : *sent) {
          if (e->type() == "m.room.member") notify_sent(ctx, *e);
        }
        std::vector<std::string> remote;
        for (const auto& user : req->invite) {
          if (ctx.remote_membership && rooms::server_name_of(user) != ctx.server_name) {
            remote.push_back(user);
          }
        }
        invite_remote_invitees(ctx, who.user_id, *r, std::move(remote), req->is_direct,
                               [ex, room_id = *r] { reply_room_id(ex, room_id); });
      });
}

// Whether a membership change in the room goes through another server: the room is unknown
// here, or no local user is joined to it while users of other servers are.
bool through_other_server(storage::ReadTxn& txn, const ServerContext& ctx,
                          const std::string& room_id) {
  if (!rooms::get_room(txn, room_id)) return true;
  bool remote_joined = false;
  for (const auto& [user, m] : rooms::members_of_room(txn, room_id)) {
    if (m != "join") continue;
    if (rooms::server_name_of(user) == ctx.server_name) return false;
    remote_joined = true;
  }
  return remote_joined;
}

// The servers to ask about a room this server is not in: those the client named, the
// server that invited the user, the server in the room id (rooms before v12).
std::vector<std::string> servers_for_room(ServerContext& ctx, storage::ReadTxn& txn,
                                          const std::string& user_id, const std::string& room_id,
                                          std::vector<std::string> named) {
  std::vector<std::string> out;
  auto add = [&](std::string_view server) {
    if (server.empty() || server == ctx.server_name || !rooms::is_valid_server_name(server)) return;
    if (std::find(out.begin(), out.end(), server) == out.end()) out.emplace_back(server);
  };
  for (const auto& server : named) add(server);
  if (auto m = rooms::membership(txn, user_id, room_id); m && m->membership == "invite") {
    if (auto invite = rooms::get_event(txn, m->event_id))
      add(rooms::server_name_of(invite->event->sender()));
  }
  add(rooms::server_name_of(room_id));
  return out;
}

// The content of a membership event sent through another server, without "membership".
json::Document remote_member_content(ServerContext& ctx, const std::string& membership,
                                     const std::string& user_id, const json::Value& body) {
  json::Document content = member_content(ctx, membership, user_id, body);
  content.RemoveMember("membership");
  return content;
}

void join_room(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who,
               const std::string& room_id, std::vector<std::string> named_servers,
               const json::Value& body) {
  std::vector<std::string> servers;
  {
    auto txn = ctx.store->begin_read();
    if (!ctx.remote_membership || !through_other_server(*txn, ctx, room_id)) {
      txn.reset();
      return send_membership(ctx, ex, who, room_id, who.user_id, "join", body,
                             [ex, room_id] { reply_room_id(ex, room_id); });
    }
    if (rooms::room_block(*txn, room_id)) {
      return ex->reply_error(Error::forbidden("This room has been blocked on this server"));
    }
    servers = servers_for_room(ctx, *txn, who.user_id, room_id, std::move(named_servers));
  }
  if (servers.empty()) {
    return ex->reply_error(Error::not_found("No known servers to join this room through"));
  }
  ctx.remote_membership->join(who.user_id, room_id, std::move(servers),
                              remote_member_content(ctx, "join", who.user_id, body),
                              [ex, room_id](Result<rooms::EventPtr> r) {
                                if (!r.ok()) return ex->reply_error(r.error());
                                reply_room_id(ex, room_id);
                              });
}

// POST /_matrix/client/v3/join/{roomIdOrAlias} and /rooms/{roomId}/join
void join(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  std::vector<std::string> named = ex->query_all("server_name");
  for (auto& server : ex->query_all("via")) named.push_back(std::move(server));
  const std::string& target = ex->params[0];
  bool remote_alias = !target.empty() && target[0] == '#' && rooms::is_valid_room_alias(target) &&
                      rooms::server_name_of(target) != ctx.server_name;
  if (remote_alias && ctx.remote_membership) {
    auto shared_body = std::make_shared<json::Document>(std::move(*body));
    return ctx.remote_membership->resolve_alias(
        target, [&ctx, ex, who, named, shared_body](Result<rooms::RemoteAlias> r) mutable {
          if (!r.ok()) return ex->reply_error(r.error());
          for (auto& server : r->servers) named.push_back(std::move(server));
          join_room(ctx, ex, who, r->room_id, std::move(named), *shared_body);
        });
  }
  auto room_id = resolve_room(ctx, target);
  if (!room_id.ok()) return ex->reply_error(room_id.error());
  join_room(ctx, ex, who, *room_id, std::move(named), *body);
}

// POST /_matrix/client/v3/knock/{roomIdOrAlias} {"reason"?}
void knock(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto reason = json::optional_string(*body, "reason");
  if (!reason.ok()) return ex->reply_error(reason.error());
  auto room_id = resolve_room(ctx, ex->params[0]);
  if (!room_id.ok()) return ex->reply_error(room_id.error());
  {
    auto txn = ctx.store->begin_read();
    if (!rooms::get_room(*txn, *room_id)) {
      return ex->reply_error(Error::not_found("No known servers to knock on this room through"));
    }
  }
  send_membership(ctx, ex, who, *room_id, who.user_id, "knock", *body,
                  [ex, id = *room_id] { reply_room_id(ex, id); });
}

// POST /rooms/{roomId}/{invite,kick,ban,unban}: a membership change of another user.
void change_member(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who,
                   const std::string& membership) {
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto target = json::required_string(*body, "user_id");
  if (!target.ok()) return ex->reply_error(target.error());
  auto reason = json::optional_string(*body, "reason");
  if (!reason.ok()) return ex->reply_error(reason.error());
  const std::string& room_id = ex->params[0];
  if (membership == "unban" || membership == "kick") {
    auto txn = ctx.store->begin_read();
    auto m = rooms::membership(*txn, *target, room_id);
    std::string current = m ? m->membership : "leave";
    if (membership == "unban" && current != "ban") {
      return ex->reply_error(Error::forbidden("The user is not banned"));
    }
    if (membership == "kick" && current != "join" && current != "invite" && current != "knock") {
      return ex->reply_error(Error::forbidden("The user is not in the room"));
    }
  }
  std::string new_membership = membership == "invite" ? "invite"
                               : membership == "ban"  ? "ban"
                                                      : "leave";
  if (membership == "invite") {
    auto txn = ctx.store->begin_read();
    auto m = rooms::membership(*txn, *target, room_id);
    if (m && m->membership == "join") {
      return ex->reply_error(Error::forbidden("The user is already in the room"));
    }
  }
  if (membership == "invite" && ctx.remote_membership &&
      rooms::server_name_of(*target) != ctx.server_name && rooms::is_valid_user_id(*target)) {
    return invite_remote_user(ctx, who.user_id, room_id, *target,
                              member_content(ctx, "invite", *target, *body), [ex](Status s) {
                                if (!s.ok()) return ex->reply_error(s.error());
                                ex->reply_json(200, "{}");
                              });
  }
  send_membership(ctx, ex, who, room_id, *target, new_membership, *body,
                  [ex] { ex->reply_json(200, "{}"); });
}

// POST /rooms/{roomId}/leave
void leave(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  const std::string& room_id = ex->params[0];
  std::vector<std::string> servers;
  {
    auto txn = ctx.store->begin_read();
    auto m = rooms::membership(*txn, who.user_id, room_id);
    if (!m || m->membership == "leave") {
      return ex->reply_error(Error::forbidden("You aren't a member of this room"));
    }
    // Rejecting an invite to (or withdrawing a knock on) a room this server is not in.
    if (m->membership != "join" && m->membership != "ban" && ctx.remote_membership &&
        through_other_server(*txn, ctx, room_id)) {
      servers = servers_for_room(ctx, *txn, who.user_id, room_id, {});
    }
  }
  if (!servers.empty()) {
    return ctx.remote_membership->leave(who.user_id, room_id, std::move(servers),
                                        remote_member_content(ctx, "leave", who.user_id, *body),
                                        [ex](Result<rooms::EventPtr> r) {
                                          if (!r.ok()) return ex->reply_error(r.error());
                                          ex->reply_json(200, "{}");
                                        });
  }
  send_membership(ctx, ex, who, room_id, who.user_id, "leave", *body,
                  [ex] { ex->reply_json(200, "{}"); });
}

// POST /rooms/{roomId}/forget
void forget(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  std::string room_id = ex->params[0];
  write<bool>(
      *ctx.store,
      [who, room_id](storage::WriteTxn& txn) -> Result<bool> {
        auto m = rooms::membership(txn, who.user_id, room_id);
        if (!m) return true;
        if (m->membership != "leave" && m->membership != "ban") {
          return Error::with(400, "M_UNKNOWN", "You must leave the room before forgetting it");
        }
        HAVEN_TRY(check(txn.del(Table::kMembershipsByUser,
                                KeyBuilder().str(who.user_id).tail(room_id).build())));
        return true;
      },
      reply_empty(ex));
}

// GET /_matrix/client/v3/joined_rooms
void joined_rooms(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value list(rapidjson::kArrayType);
  auto txn = ctx.store->begin_read();
  for (auto& [room_id, m] : rooms::rooms_of_user(*txn, who.user_id)) {
    if (m.membership == "join") list.PushBack(json::str(room_id, a), a);
  }
  json::set(d, "joined_rooms", std::move(list), a);
  ex->reply_json(200, d);
}

// GET /rooms/{roomId}/members
void members(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  const std::string& room_id = ex->params[0];
  auto txn = ctx.store->begin_read();
  auto access = rooms::room_access(*txn, who.user_id, room_id);
  if (!access.ok()) return ex->reply_error(access.error());
  uint64_t group = access->state_group;
  if (auto at = ex->query("at"); at) {
    auto pos = parse_pagination_position(*at);
    if (!pos) return ex->reply_error(Error::invalid_param("Invalid 'at' token"));
    group = state_group_at_position(*txn, room_id, std::min(*pos, access->until_pos), group);
  }
  auto only = ex->query("membership");
  auto not_m = ex->query("not_membership");
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value chunk(rapidjson::kArrayType);
  for (auto& [key, id] : rooms::state_ids_at_group(*txn, group)) {
    if (key.first != "m.room.member") continue;
    auto ev = rooms::get_event(*txn, id);
    if (!ev) continue;
    std::string m = ev->event->membership();
    if ((only && m != *only) || (not_m && m == *not_m)) continue;
    chunk.PushBack(format_event(*txn, *ev, who, a, EventFormat::kClient), a);
  }
  json::set(d, "chunk", std::move(chunk), a);
  ex->reply_json(200, d);
}

// GET /rooms/{roomId}/joined_members
void joined_members(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  const std::string& room_id = ex->params[0];
  auto txn = ctx.store->begin_read();
  auto access = rooms::room_access(*txn, who.user_id, room_id);
  if (!access.ok()) return ex->reply_error(access.error());
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value joined(rapidjson::kObjectType);
  for (auto& [key, id] : rooms::state_ids_at_group(*txn, access->state_group)) {
    if (key.first != "m.room.member") continue;
    auto ev = rooms::get_event(*txn, id);
    if (!ev || ev->event->membership() != "join") continue;
    json::Value profile(rapidjson::kObjectType);
    json::Value c(ev->event->content(), a);
    hide_member_identity(*txn, who, *ev->event, c, a);
    if (auto n = json::get_string(c, "displayname"); !n.empty())
      json::set(profile, "display_name", n, a);
    if (auto u = json::get_string(c, "avatar_url"); !u.empty())
      json::set(profile, "avatar_url", u, a);
    json::set(joined, key.second, std::move(profile), a);
  }
  json::set(d, "joined", std::move(joined), a);
  ex->reply_json(200, d);
}

}  // namespace

void register_room_routes(http::Router& r, ServerContext& ctx) {
  auto authed = [&](const char* method, const std::string& path, AuthedHandler h) {
    add_authed(r, ctx, method, v3(path), std::move(h));
  };
  authed("POST", "/createRoom", [&ctx](auto& ex, auto& who) { create_room(ctx, ex, who); });
  authed("POST", "/join/{roomIdOrAlias}", [&ctx](auto& ex, auto& who) { join(ctx, ex, who); });
  authed("POST", "/rooms/{roomId}/join", [&ctx](auto& ex, auto& who) { join(ctx, ex, who); });
  authed("POST", "/knock/{roomIdOrAlias}", [&ctx](auto& ex, auto& who) { knock(ctx, ex, who); });
  for (const char* op : {"invite", "kick", "ban", "unban"}) {
    authed("POST", std::string("/rooms/{roomId}/") + op,
           [&ctx, op](auto& ex, auto& who) { change_member(ctx, ex, who, op); });
  }
  authed("POST", "/rooms/{roomId}/leave", [&ctx](auto& ex, auto& who) { leave(ctx, ex, who); });
  authed("POST", "/rooms/{roomId}/forget", [&ctx](auto& ex, auto& who) { forget(ctx, ex, who); });
  authed("GET", "/joined_rooms", [&ctx](auto& ex, auto& who) { joined_rooms(ctx, ex, who); });
  authed("GET", "/rooms/{roomId}/members", [&ctx](auto& ex, auto& who) { members(ctx, ex, who); });
  authed("GET", "/rooms/{roomId}/joined_members",
         [&ctx](auto& ex, auto& who) { joined_members(ctx, ex, who); });
}

}  // namespace haven::client
