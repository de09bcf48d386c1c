// Inbound EDUs from other servers (see federation_edus.h).
#include "homeserver/client/federation_edus.h"

#include <spdlog/spdlog.h>

#include "appservices/appservices.h"
#include "homeserver/base/write.h"
#include "homeserver/client/appservice.h"
#include "homeserver/e2ee/to_device.h"
#include "homeserver/policy/care_rules.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/ids.h"
#include "homeserver/rooms/room_access.h"
#include "homeserver/sync/notifier.h"
#include "homeserver/sync/streams.h"

namespace haven::client {
namespace {

// Remote typing notifications carry no timeout: they last this long unless renewed.
constexpr int64_t kRemoteTypingTimeoutMs = 30'000;
constexpr size_t kMaxPresencePush = 1000;
constexpr size_t kMaxToDeviceMessages = 10'000;
constexpr size_t kMaxReceiptEventIds = 10;

bool user_of(const std::string& user_id, const std::string& server) {
  return rooms::is_valid_user_id(user_id) && rooms::server_name_of(user_id) == server;
}

bool joined(storage::ReadTxn& txn, const std::string& user_id, const std::string& room_id) {
  auto m = rooms::membership(txn, user_id, room_id);
  return m && m->membership == "join";
}

// m.typing: {room_id, user_id, typing}
void on_typing(ServerContext& ctx, const std::string& origin, const json::Value& content) {
  std::string room_id = json::get_string(content, "room_id");
  std::string user_id = json::get_string(content, "user_id");
  auto typing = content.FindMember("typing");
  if (!user_of(user_id, origin) || typing == content.MemberEnd() || !typing->value.IsBool()) return;
  {
    auto txn = ctx.store->begin_read();
    if (!txn || !joined(*txn, user_id, room_id)) return;
  }
  streams::start_typing_expiry(ctx);
  if (ctx.typing->set(room_id, user_id, typing->value.GetBool(), kRemoteTypingTimeoutMs,
                      now_ms())) {
    ctx.notifier->notify_room(room_id);
    appservice_typing(ctx, room_id);
  }
}

// m.receipt: {room_id: {"m.read": {user_id: {event_ids: [...], data: {ts, thread_id?}}}}}
void on_receipt(ServerContext& ctx, const std::string& origin, const json::Value& content) {
  auto receipts = std::make_shared<std::vector<streams::Receipt>>();
  {
    auto txn = ctx.store->begin_read();
    if (!txn) return;
    for (const auto& room : content.GetObject()) {
      std::string room_id(room.name.GetString(), room.name.GetStringLength());
      if (!room.value.IsObject()) continue;
      auto reads = room.value.FindMember("m.read");
      if (reads == room.value.MemberEnd() || !reads->value.IsObject()) continue;
      for (const auto& user : reads->value.GetObject()) {
        std::string user_id(user.name.GetString(), user.name.GetStringLength());
        if (!user_of(user_id, origin) || !user.value.IsObject()) continue;
        if (!joined(*txn, user_id, room_id)) continue;
        auto ids = user.value.FindMember("event_ids");
        if (ids == user.value.MemberEnd() || !ids->value.IsArray()) continue;
        const json::Value* data = nullptr;
        if (auto d = user.value.FindMember("data"); d != user.value.MemberEnd() && d->value.IsObject()) {
          data = &d->value;
        }
        size_t taken = 0;
        for (const auto& id : ids->value.GetArray()) {
          if (!id.IsString() || ++taken > kMaxReceiptEventIds) break;
          auto ev = rooms::get_event(*txn, id.GetString());
          if (!ev || ev->event->room_id() != room_id || ev->pos == 0) continue;
          receipts->push_back({room_id, "m.read", user_id,
                               data ? json::get_string(*data, "thread_id") : std::string(),
                               ev->event->event_id(), ev->pos,
                               data ? json::get_int(*data, "ts", now_ms()) : now_ms()});
        }
      }
    }
  }
  if (receipts->empty()) return;
  auto changed = std::make_shared<std::vector<bool>>(receipts->size(), false);
  write<bool>(
      *ctx.store,
      [receipts, changed](storage::WriteTxn& txn) -> Result<bool> {
        for (size_t i = 0; i < receipts->size(); ++i) {
          bool moved = false;
          HAVEN_TRY(check(streams::put_receipt(txn, (*receipts)[i], &moved)));
          (*changed)[i] = moved;
        }
        return true;
      },
      [&ctx, receipts, changed](Result<bool> r) {
        if (!r.ok()) return spdlog::warn("federation: receipts not stored: {}", r.error().message);
        for (size_t i = 0; i < receipts->size(); ++i) {
          if (!(*changed)[i]) continue;
          const auto& rc = (*receipts)[i];
          ctx.notifier->notify_room(rc.room_id);
          appservice_receipt(ctx, rc.room_id, rc.type, rc.event_id, rc.user_id, rc.thread_id,
                             rc.ts);
        }
      });
}

// m.presence: {push: [{user_id, presence, status_msg?, last_active_ago?, currently_active?}]}
void on_presence(ServerContext& ctx, const std::string& origin, const json::Value& content) {
  auto push = content.FindMember("push");
  if (push == content.MemberEnd() || !push->value.IsArray()) return;
  struct Update {
    std::string user_id;
    streams::Presence presence;
  };
  auto updates = std::make_shared<std::vector<Update>>();
  const int64_t now = now_ms();
  for (const auto& p : push->value.GetArray()) {
    if (updates->size() == kMaxPresencePush) break;
    if (!p.IsObject()) continue;
    std::string user_id = json::get_string(p, "user_id");
    std::string state = json::get_string(p, "presence");
    if (!user_of(user_id, origin)) continue;
    if (state != "online" && state != "unavailable" && state != "offline") continue;
    Update u{user_id, {}};
    u.presence.presence = state;
    if (auto msg = p.FindMember("status_msg"); msg != p.MemberEnd() && msg->value.IsString()) {
      u.presence.status_msg = std::string(msg->value.GetString(), msg->value.GetStringLength());
    }
    int64_t ago = json::get_int(p, "last_active_ago", -1);
    if (ago >= 0) u.presence.last_active_ts = now - ago;
    updates->push_back(std::move(u));
  }
  if (updates->empty()) return;
  write<bool>(
      *ctx.store,
      [updates](storage::WriteTxn& txn) -> Result<bool> {
        for (auto& u : *updates) {
          HAVEN_TRY(check(streams::put_presence(txn, u.user_id, u.presence, true)));
        }
        return true;
      },
      [&ctx, updates](Result<bool> r) {
        if (!r.ok()) return spdlog::warn("federation: presence not stored: {}", r.error().message);
        std::set<std::string> wake;
        auto txn = ctx.store->begin_read();
        for (const auto& u : *updates) {
          if (txn) wake.merge(rooms::users_sharing_rooms(*txn, u.user_id));
          appservice_presence(ctx, u.user_id);
        }
        txn.reset();
        ctx.notifier->notify_users(wake);
      });
}

// m.direct_to_device: {sender, type, message_id, messages: {user_id: {device_id: content}}}
void on_to_device(ServerContext& ctx, const std::string& origin, const json::Value& content) {
  auto send = std::make_shared<e2ee::ToDeviceSend>();
  send->sender = json::get_string(content, "sender");
  send->type = json::get_string(content, "type");
  send->txn_id = "federation:" + json::get_string(content, "message_id");
  auto messages = content.FindMember("messages");
  if (!user_of(send->sender, origin) || send->type.empty() || send->type.size() > 255 ||
      messages == content.MemberEnd() || !messages->value.IsObject()) {
    return;
  }
  std::function<bool(std::string_view)> reachable;
  if (ctx.care) {
    auto txn = ctx.store->begin_read();
    if (!txn) return;
    reachable = ctx.care->direct_reach(*txn, send->sender);
  }
  for (const auto& user : messages->value.GetObject()) {
    std::string user_id(user.name.GetString(), user.name.GetStringLength());
    if (!user_of(user_id, ctx.server_name) || !user.value.IsObject()) continue;
    if (reachable && !reachable(user_id)) continue;
    for (const auto& device : user.value.GetObject()) {
      if (!device.value.IsObject() || device.name.GetStringLength() == 0) continue;
      send->targets.push_back({user_id, std::string(device.name.GetString(),
                                                    device.name.GetStringLength()),
                               json::to_string(device.value)});
    }
  }
  if (send->targets.empty()) return;
  write<e2ee::ToDeviceStored>(
      *ctx.store,
      [send](storage::WriteTxn& txn) {
        return e2ee::store_to_device(txn, *send, kMaxToDeviceMessages);
      },
      [&ctx](Result<e2ee::ToDeviceStored> r) {
        if (!r.ok()) return spdlog::warn("federation: to-device not stored: {}", r.error().message);
        ctx.notifier->notify_users(r->recipients);
        if (ctx.appservices) ctx.appservices->to_device_stored(r->recipients);
      });
}

}  // namespace

void register_federation_edus(federation::EduHandlers& edus, ServerContext& ctx) {
  edus.add("m.typing", [&ctx](const std::string& origin, const json::Value& content) {
    on_typing(ctx, origin, content);
  });
  edus.add("m.receipt", [&ctx](const std::string& origin, const json::Value& content) {
    on_receipt(ctx, origin, content);
  });
  edus.add("m.presence", [&ctx](const std::string& origin, const json::Value& content) {
    on_presence(ctx, origin, content);
  });
  edus.add("m.direct_to_device", [&ctx](const std::string& origin, const json::Value& content) {
    on_to_device(ctx, origin, content);
  });
}

}  // namespace haven::client
