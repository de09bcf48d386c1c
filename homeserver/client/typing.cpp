// Client-Server API: typing notifications (only for yourself, in rooms you are joined to).
#include "homeserver/client/appservice.h"
#include "homeserver/client/outbound_edus.h"
#include "homeserver/client/routes.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/ids.h"
#include "homeserver/sync/notifier.h"
#include "homeserver/sync/streams.h"

namespace haven::client {

namespace {

constexpr int64_t kDefaultTypingTimeoutMs = 30'000;

struct TypingRequest {
  bool typing = false;
  int64_t timeout_ms = kDefaultTypingTimeoutMs;
};

Result<TypingRequest> parse_typing(const json::Value& body) {
  TypingRequest req;
  auto typing = json::optional_bool(body, "typing");
  if (!typing.ok()) return std::move(typing).error();
  if (!typing->has_value()) return Error::missing_param("Missing 'typing'");
  req.typing = **typing;
  auto timeout = json::optional_int(body, "timeout");
  if (!timeout.ok()) return std::move(timeout).error();
  if (timeout->has_value()) {
    if (**timeout < 0) return Error::invalid_param("'timeout' must not be negative");
    req.timeout_ms = std::min(**timeout, streams::kMaxTypingTimeoutMs);
  }
  return req;
}

// PUT /rooms/{roomId}/typing/{userId}
void set_typing(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  const std::string& room_id = ex->params[0];
  const std::string& user_id = ex->params[1];
  if (!rooms::is_valid_room_id(room_id)) {
    return ex->reply_error(Error::invalid_param("Invalid room id"));
  }
  if (user_id != who.user_id) {
    return ex->reply_error(Error::forbidden("Cannot set the typing state of other users"));
  }
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto req = parse_typing(*body);
  if (!req.ok()) return ex->reply_error(req.error());
  {
    auto txn = ctx.store->begin_read();
    auto membership = rooms::membership(*txn, who.user_id, room_id);
    if (!membership || membership->membership != "join") {
      return ex->reply_error(Error::forbidden("You are not joined to this room"));
    }
  }
  streams::start_typing_expiry(ctx);
  if (ctx.typing->set(room_id, who.user_id, req->typing, req->timeout_ms, now_ms())) {
    ctx.notifier->notify_room(room_id);
    appservice_typing(ctx, room_id);
  }
  // Also when unchanged: a client repeats "typing" to keep it from timing out elsewhere too.
  send_typing_edu(ctx, room_id, who.user_id, req->typing);
  ex->reply_json(200, "{}");
}

}  // namespace

void register_typing_routes(http::Router& r, ServerContext& ctx) {
  add_authed(r, ctx, "PUT", v3("/rooms/{roomId}/typing/{userId}"),
             [&ctx](auto& ex, auto& who) { set_typing(ctx, ex, who); });
}

}  // namespace haven::client
