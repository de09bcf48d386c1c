// Client-Server API: send-to-device messaging (PUT /sendToDevice). The messages reach /sync
// through e2ee/to_device; sync.cpp deletes them once acknowledged.
#include "homeserver/e2ee/to_device.h"

#include <map>
#include <memory>

#include "appservices/appservices.h"
#include "homeserver/base/rate_limiter.h"
#include "homeserver/base/write.h"
#include "homeserver/client/routes.h"
#include "homeserver/policy/care_rules.h"
#include "crypto/random.h"
#include "homeserver/rooms/ids.h"
#include "homeserver/rooms/outbound.h"
#include "homeserver/sync/notifier.h"

namespace haven::client {

namespace {

// One send may reach this many devices in all ("*" counted per device): enough for a key
// share to a large room, small enough that one request cannot flood the store.
constexpr size_t kMaxMessagesPerSend = 10000;
constexpr size_t kMaxTypeBytes = 255;
constexpr size_t kMaxTxnIdBytes = 255;
constexpr size_t kMaxDeviceIdBytes = 255;

bool is_valid_token(std::string_view s, size_t max_bytes) {
  return !s.empty() && s.size() <= max_bytes && s.find('\0') == std::string_view::npos &&
         rooms::is_valid_utf8(s);
}

std::string_view view(const json::Value& v) { return {v.GetString(), v.GetStringLength()}; }

// The body's "messages" as targets: local users are stored here, remote users' messages go
// to their servers in m.direct_to_device EDUs.
Result<std::vector<e2ee::ToDeviceTarget>> parse_messages(const json::Value& body) {
  auto messages = json::required_object(body, "messages");
  if (!messages.ok()) return messages.error();
  size_t entries = 0;
  std::vector<e2ee::ToDeviceTarget> targets;
  for (const auto& user : (*messages)->GetObject()) {
    std::string user_id(view(user.name));
    if (!rooms::is_valid_user_id(user_id)) {
      return Error::invalid_param("Invalid user id in messages: " + user_id);
    }
    if (!user.value.IsObject()) {
      return Error::bad_json("messages for " + user_id + " must be an object");
    }
    entries += user.value.MemberCount();
    if (entries > kMaxMessagesPerSend) {
      return Error::too_large("A send may hold at most " + std::to_string(kMaxMessagesPerSend) +
                              " messages");
    }
    for (const auto& device : user.value.GetObject()) {
      std::string device_id(view(device.name));
      if (!is_valid_token(device_id, kMaxDeviceIdBytes)) {
        return Error::invalid_param("Invalid device id in messages for " + user_id);
      }
      if (!device.value.IsObject()) {
        return Error::bad_json("Message content for " + user_id + " must be an object");
      }
      targets.push_back({user_id, device_id, json::to_string(device.value)});
    }
  }
  return targets;
}

// One m.direct_to_device EDU content per remote server, for `targets` (remote users).
std::map<std::string, std::string> direct_to_device_edus(
    const e2ee::ToDeviceSend& send, const std::vector<e2ee::ToDeviceTarget>& targets) {
  std::map<std::string, json::Document> by_server;
  for (const auto& t : targets) {
    std::string server(rooms::server_name_of(t.user_id));
    auto [it, fresh] = by_server.try_emplace(server, json::object());
    json::Document& d = it->second;
    auto& a = d.GetAllocator();
    if (fresh) {
      json::set(d, "sender", send.sender, a);
      json::set(d, "type", send.type, a);
      // Unique per send and server; the receiver drops a message_id it has seen.
      json::set(d, "message_id", crypto::random_token(16), a);
      json::set(d, "messages", json::Value(rapidjson::kObjectType), a);
    }
    json::Value& messages = d["messages"];
    if (!messages.HasMember(t.user_id.c_str())) {
      json::set(messages, t.user_id, json::Value(rapidjson::kObjectType), a);
    }
    json::Value content;
    auto parsed = json::parse_trusted(t.content_json);
    content.CopyFrom(parsed, a);
    json::set(messages[t.user_id.c_str()], t.device_id, std::move(content), a);
  }
  std::map<std::string, std::string> out;
  for (auto& [server, d] : by_server) out.emplace(server, json::to_string(d));
  return out;
}

bool to_device_rate_limited(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  if (!who.rate_limited) return false;
  int64_t retry = 0;
  if (ctx.rate_limiter->allow("to_device", who.user_id, ctx.config.rc_message, now_ms(), &retry)) {
    return false;
  }
  ex->reply_error(Error::limit_exceeded(retry));
  return true;
}

// PUT /_matrix/client/v3/sendToDevice/{eventType}/{txnId}
void send_to_device(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  if (to_device_rate_limited(ctx, ex, who)) return;
  const std::string& type = ex->params[0];
  const std::string& txn_id = ex->params[1];
  if (!is_valid_token(type, kMaxTypeBytes)) {
    return ex->reply_error(Error::invalid_param("Invalid event type"));
  }
  if (!is_valid_token(txn_id, kMaxTxnIdBytes)) {
    return ex->reply_error(Error::invalid_param("Invalid transaction id"));
  }
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto targets = parse_messages(*body);
  if (!targets.ok()) return ex->reply_error(targets.error());
  if (ctx.care) {
    // Strangers are skipped like unknown users: to-device is no way around the contact rule.
    auto txn = ctx.store->begin_read();
    auto reachable = ctx.care->direct_reach(*txn, who.user_id);
    std::erase_if(*targets, [&](const auto& t) { return !reachable(t.user_id); });
  }
  auto send = std::make_shared<e2ee::ToDeviceSend>();
  send->sender = who.user_id;
  send->sender_device = who.device_id;
  send->type = type;
  send->txn_id = txn_id;
  auto remote = std::make_shared<std::map<std::string, std::string>>();
  std::vector<e2ee::ToDeviceTarget> remote_targets;
  for (auto& t : *targets) {
    bool local = rooms::server_name_of(t.user_id) == ctx.server_name;
    (local ? send->targets : remote_targets).push_back(std::move(t));
  }
  // Without federation, remote users' messages are dropped, as for unknown local users.
  if (ctx.outbound) *remote = direct_to_device_edus(*send, remote_targets);
  write<e2ee::ToDeviceStored>(
      *ctx.store,
      [&ctx, send, remote](storage::WriteTxn& txn) -> Result<e2ee::ToDeviceStored> {
        auto stored = e2ee::store_to_device(txn, *send, kMaxMessagesPerSend);
        if (!stored.ok() || stored->duplicate) return stored;
        // Queued with the send: a repeated transaction id queues nothing again.
        for (const auto& [server, content] : *remote) {
          auto s = ctx.outbound->queue_edu(txn, server, "m.direct_to_device", content);
          HAVEN_TRY(check(s));
        }
        return stored;
      },
      [&ctx, ex, remote](Result<e2ee::ToDeviceStored> r) {
        if (!r.ok()) return ex->reply_error(r.error());
        ex->reply_json(200, "{}");
        ctx.notifier->notify_users(r->recipients);
        if (ctx.appservices) ctx.appservices->to_device_stored(r->recipients);
        if (!remote->empty()) ctx.outbound->wake();
      });
}

}  // namespace

void register_to_device_routes(http::Router& r, ServerContext& ctx) {
  add_authed(r, ctx, "PUT", v3("/sendToDevice/{eventType}/{txnId}"),
             [&ctx](auto& ex, auto& who) { send_to_device(ctx, ex, who); });
}

}  // namespace haven::client
