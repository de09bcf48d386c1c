#include "homeserver/client/outbound_edus.h"

#include <set>
#include <vector>

#include "homeserver/base/json.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/ids.h"
#include "homeserver/rooms/outbound.h"
#include "homeserver/sync/streams.h"

namespace haven::client {

namespace {

void add_servers_of_room(storage::ReadTxn& txn, const std::string& room_id,
                         const std::string& own_server, std::set<std::string>& out) {
  for (const auto& [member, membership] : rooms::members_of_room(txn, room_id)) {
    if (membership != "join") continue;
    std::string server(rooms::server_name_of(member));
    if (!server.empty() && server != own_server) out.insert(std::move(server));
  }
}

void send_to_room_servers(ServerContext& ctx, const std::string& room_id, const char* type,
                          const json::Document& content) {
  if (!ctx.outbound) return;
  std::set<std::string> servers;
  {
    auto txn = ctx.store->begin_read();
    if (!txn) return;
    add_servers_of_room(*txn, room_id, ctx.server_name, servers);
  }
  if (servers.empty()) return;
  ctx.outbound->send_edu({servers.begin(), servers.end()}, type, json::to_string(content));
}

}  // namespace

void send_typing_edu(ServerContext& ctx, const std::string& room_id, const std::string& user_id,
                     bool typing) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "room_id", room_id, a);
  json::set(d, "user_id", user_id, a);
  json::set(d, "typing", typing, a);
  send_to_room_servers(ctx, room_id, "m.typing", d);
}

void send_receipt_edu(ServerContext& ctx, const std::string& room_id, const std::string& user_id,
                      const std::string& event_id, const std::string& thread_id, int64_t ts) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value data(rapidjson::kObjectType);
  json::set(data, "ts", ts, a);
  if (!thread_id.empty()) json::set(data, "thread_id", thread_id, a);
  json::Value ids(rapidjson::kArrayType);
  ids.PushBack(json::str(event_id, a), a);
  json::Value receipt(rapidjson::kObjectType);
  json::set(receipt, "event_ids", std::move(ids), a);
  json::set(receipt, "data", std::move(data), a);
  json::Value users(rapidjson::kObjectType);
  json::set(users, user_id, std::move(receipt), a);
  json::Value types(rapidjson::kObjectType);
  json::set(types, "m.read", std::move(users), a);
  json::set(d, room_id, std::move(types), a);
  send_to_room_servers(ctx, room_id, "m.receipt", d);
}

void send_presence_edu(ServerContext& ctx, const std::string& user_id) {
  if (!ctx.outbound) return;
  std::set<std::string> servers;
  std::optional<streams::Presence> presence;
  {
    auto txn = ctx.store->begin_read();
    if (!txn) return;
    presence = streams::get_presence(*txn, user_id);
    for (const auto& [room_id, m] : rooms::rooms_of_user(*txn, user_id)) {
      if (m.membership == "join") add_servers_of_room(*txn, room_id, ctx.server_name, servers);
    }
  }
  if (!presence || servers.empty()) return;
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value update(rapidjson::kObjectType);
  json::set(update, "user_id", user_id, a);
  json::set(update, "presence", presence->presence, a);
  if (presence->status_msg) json::set(update, "status_msg", *presence->status_msg, a);
  int64_t ago = presence->last_active_ts > 0 ? now_ms() - presence->last_active_ts : 0;
  json::set(update, "last_active_ago", std::max<int64_t>(0, ago), a);
  json::set(update, "currently_active", presence->presence == "online", a);
  json::Value push(rapidjson::kArrayType);
  push.PushBack(std::move(update), a);
  json::set(d, "push", std::move(push), a);
  ctx.outbound->send_edu({servers.begin(), servers.end()}, "m.presence", json::to_string(d));
}

}  // namespace haven::client
