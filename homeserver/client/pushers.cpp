// Client-Server API: pushers (GET /pushers, POST /pushers/set) and the notifications sent to
// their push gateways.
#include "homeserver/client/pushers.h"

#include "homeserver/base/write.h"
#include "homeserver/client/routes.h"
#include "homeserver/push/evaluator.h"
#include "homeserver/push/push_sender.h"
#include "homeserver/push/pushers.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/ids.h"
#include "homeserver/sync/streams.h"

namespace haven::client {

namespace {

constexpr size_t kMaxPushkeyBytes = 512;
constexpr size_t kMaxAppIdBytes = 64;
constexpr size_t kMaxFieldBytes = 256;
constexpr std::string_view kGatewayPath = "/_matrix/push/v1/notify";

Result<std::string> bounded_string(const json::Value& body, const char* key, size_t max) {
  auto value = json::required_string(body, key);
  if (!value.ok()) return value;
  if (value->size() > max) {
    return Error::invalid_param(std::string(key) + " is longer than " + std::to_string(max) +
                                " bytes");
  }
  return value;
}

// data.url: an http(s) URL whose path is the push gateway API's, as the spec requires.
Status check_gateway_url(const std::string& url) {
  bool http = url.starts_with("http://") || url.starts_with("https://");
  size_t host_end = url.find('/', url.find("//") + 2);
  bool path_ok = host_end != std::string::npos && url.substr(host_end) == kGatewayPath;
  if (!http || !path_ok || url.size() > 2048) {
    return Error::invalid_param("data.url must be an http(s) URL ending in " +
                                std::string(kGatewayPath));
  }
  return {};
}

// POST /_matrix/client/v3/pushers/set
void set_pusher(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto pushkey = bounded_string(*body, "pushkey", kMaxPushkeyBytes);
  auto app_id = bounded_string(*body, "app_id", kMaxAppIdBytes);
  if (!pushkey.ok()) return ex->reply_error(pushkey.error());
  if (!app_id.ok()) return ex->reply_error(app_id.error());
  auto kind = body->FindMember("kind");
  if (kind == body->MemberEnd()) return ex->reply_error(Error::missing_param("Missing 'kind'"));
  if (kind->value.IsNull()) {
    write<bool>(
        *ctx.store,
        [user = who.user_id, a = *app_id, k = *pushkey](storage::WriteTxn& txn) -> Result<bool> {
          HAVEN_TRY(check(push::delete_pusher(txn, user, a, k)));
          return true;
        },
        reply_empty(ex));
    return;
  }
  if (!kind->value.IsString()) return ex->reply_error(Error::bad_json("'kind' must be a string"));
  if (std::string_view(kind->value.GetString()) != "http") {
    return ex->reply_error(Error::invalid_param("Only http pushers are supported"));
  }
  push::Pusher p;
  p.user_id = who.user_id;
  p.app_id = *app_id;
  p.pushkey = *pushkey;
  p.pushkey_ts = now_ms();
  for (auto [key, field] : {std::pair{"app_display_name", &p.app_display_name},
                            {"device_display_name", &p.device_display_name},
                            {"lang", &p.lang}}) {
    auto v = bounded_string(*body, key, kMaxFieldBytes);
    if (!v.ok()) return ex->reply_error(v.error());
    *field = *v;
  }
  auto tag = json::optional_string(*body, "profile_tag");
  auto append = json::optional_bool(*body, "append");
  auto data = json::required_object(*body, "data");
  if (!tag.ok()) return ex->reply_error(tag.error());
  if (!append.ok()) return ex->reply_error(append.error());
  if (!data.ok()) return ex->reply_error(data.error());
  p.profile_tag = tag->value_or("");
  auto url = json::required_string(**data, "url");
  if (!url.ok()) return ex->reply_error(url.error());
  if (auto s = check_gateway_url(*url); !s.ok()) return ex->reply_error(s.error());
  auto format = json::optional_string(**data, "format");
  if (!format.ok()) return ex->reply_error(format.error());
  p.data_json = json::to_string(**data);
  write<bool>(
      *ctx.store,
      [p, append = append->value_or(false)](storage::WriteTxn& txn) -> Result<bool> {
        HAVEN_TRY(check(push::put_pusher(txn, p, append)));
        return true;
      },
      reply_empty(ex));
}

// GET /_matrix/client/v3/pushers
void get_pushers(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto txn = ctx.store->begin_read();
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value list(rapidjson::kArrayType);
  for (const push::Pusher& p : push::pushers_of(*txn, who.user_id)) {
    list.PushBack(json::Value(push::pusher_to_json(p), a), a);
  }
  json::set(d, "pushers", std::move(list), a);
  ex->reply_json(200, d);
}

// The user's unread count in the room, as /sync reports it.
int64_t unread_in_room(ServerContext& ctx, storage::ReadTxn& txn, const std::string& room_id,
                       const std::string& user_id, uint64_t last_pos) {
  uint64_t read_pos = 0;
  if (auto id = streams::own_read_receipt(txn, room_id, user_id); id) {
    if (auto ev = rooms::get_event(txn, *id); ev) read_pos = ev->pos;
  }
  return ctx.unread->get(txn, room_id, user_id, read_pos, last_pos).notification_count;
}

// The event_id_only notification for one pusher: ids, counts and the device, nothing else.
std::string notification_body(const rooms::Event& event, const push::Pusher& p, int64_t unread,
                              const push::PushResult& result) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value n(rapidjson::kObjectType), counts(rapidjson::kObjectType),
      devices(rapidjson::kArrayType), device(rapidjson::kObjectType),
      tweaks(rapidjson::kObjectType);
  json::set(n, "event_id", event.event_id(), a);
  json::set(n, "room_id", event.room_id(), a);
  json::set(n, "prio", result.highlight ? "high" : "low", a);
  json::set(counts, "unread", unread, a);
  json::set(n, "counts", std::move(counts), a);
  json::set(device, "app_id", p.app_id, a);
  json::set(device, "pushkey", p.pushkey, a);
  json::set(device, "pushkey_ts", p.pushkey_ts / 1000, a);
  json::Document data = json::parse_trusted(p.data_json);
  if (!data.IsObject()) data.SetObject();
  json::Value data_out(data, a);
  data_out.RemoveMember("url");  // the gateway's own address is not the device's business
  json::set(data_out, "format", "event_id_only", a);
  json::set(device, "data", std::move(data_out), a);
  if (result.sound) json::set(tweaks, "sound", *result.sound, a);
  if (result.highlight) json::set(tweaks, "highlight", true, a);
  json::set(device, "tweaks", std::move(tweaks), a);
  devices.PushBack(std::move(device), a);
  json::set(n, "devices", std::move(devices), a);
  json::set(d, "notification", std::move(n), a);
  return json::to_string(d);
}

}  // namespace

void notify_pushers(ServerContext& ctx, const rooms::Event& event) {
  bool state_but_not_membership = event.is_state() && event.type() != "m.room.member";
  if (!ctx.push_sender || !ctx.unread || state_but_not_membership) return;
  auto txn = ctx.store->begin_read();
  if (!txn) return;
  auto room = rooms::get_room(*txn, event.room_id());
  if (!room) return;
  for (const auto& [user_id, membership] : rooms::members_of_room(*txn, event.room_id())) {
    if (user_id == event.sender() || rooms::server_name_of(user_id) != ctx.server_name) continue;
    bool invited_now = membership == "invite" && event.state_key() == user_id;
    if (membership != "join" && !invited_now) continue;
    if (!push::has_pushers(*txn, user_id)) continue;
    push::PushResult result = push::evaluate_for_user(*txn, event.room_id(), user_id, event);
    if (!result.notify) continue;
    int64_t unread = unread_in_room(ctx, *txn, event.room_id(), user_id, room->last_pos);
    for (const push::Pusher& p : push::pushers_of(*txn, user_id)) {
      json::Document data = json::parse_trusted(p.data_json);
      push::Notification n;
      n.url = json::get_string(data, "url");
      n.body = notification_body(event, p, unread, result);
      n.app_id = p.app_id;
      n.pushkey = p.pushkey;
      ctx.push_sender->send(std::move(n));
    }
  }
}

void register_pusher_routes(http::Router& r, ServerContext& ctx) {
  add_authed(r, ctx, "GET", v3("/pushers"),
             [&ctx](auto& ex, auto& who) { get_pushers(ctx, ex, who); });
  add_authed(r, ctx, "POST", v3("/pushers/set"),
             [&ctx](auto& ex, auto& who) { set_pusher(ctx, ex, who); });
}

}  // namespace haven::client
