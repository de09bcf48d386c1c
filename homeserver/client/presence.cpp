// Client-Server API: presence (set your own; read your own or that of someone sharing a room
// with you).
#include "homeserver/base/write.h"
#include "homeserver/client/appservice.h"
#include "homeserver/client/outbound_edus.h"
#include "homeserver/client/routes.h"
#include "homeserver/rooms/ids.h"
#include "homeserver/rooms/room_access.h"
#include "homeserver/sync/notifier.h"
#include "homeserver/sync/streams.h"

namespace haven::client {

namespace {

constexpr size_t kMaxStatusMsgBytes = 1024;

struct PresenceRequest {
  std::string presence;
  std::optional<std::string> status_msg;
};

Result<PresenceRequest> parse_presence(const json::Value& body) {
  PresenceRequest req;
  auto presence = json::required_string(body, "presence");
  if (!presence.ok()) return std::move(presence).error();
  if (*presence != "online" && *presence != "unavailable" && *presence != "offline") {
    return Error::invalid_param("'presence' must be online, unavailable or offline");
  }
  req.presence = *presence;
  auto status = json::optional_string(body, "status_msg");
  if (!status.ok()) return std::move(status).error();
  if (status->has_value() && (*status)->size() > kMaxStatusMsgBytes) {
    return Error::invalid_param("'status_msg' is longer than 1024 bytes");
  }
  req.status_msg = *status;
  return req;
}

// PUT /presence/{userId}/status
void set_presence(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  if (ex->params[0] != who.user_id) {
    return ex->reply_error(Error::forbidden("Cannot set the presence of other users"));
  }
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto req = parse_presence(*body);
  if (!req.ok()) return ex->reply_error(req.error());
  write<bool>(
      *ctx.store,
      [user_id = who.user_id, req = *req](storage::WriteTxn& txn) -> Result<bool> {
        auto current = streams::get_presence(txn, user_id);
        streams::Presence p = current.value_or(streams::Presence{});
        bool changed = !current || p.presence != req.presence || p.status_msg != req.status_msg;
        p.presence = req.presence;
        p.status_msg = req.status_msg;
        if (req.presence == "online") p.last_active_ts = now_ms();
        HAVEN_TRY(check(streams::put_presence(txn, user_id, p, changed)));
        return changed;
      },
      [&ctx, ex, user_id = who.user_id](Result<bool> r) {
        if (!r.ok()) return ex->reply_error(r.error());
        if (*r) {
          auto txn = ctx.store->begin_read();
          auto users = rooms::users_sharing_rooms(*txn, user_id);
          txn.reset();
          users.insert(user_id);
          ctx.notifier->notify_users(users);
          appservice_presence(ctx, user_id);
          send_presence_edu(ctx, user_id);
        }
        ex->reply_json(200, "{}");
      });
}

// GET /presence/{userId}/status
void get_presence(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  const std::string& user_id = ex->params[0];
  if (!rooms::is_valid_user_id(user_id)) {
    return ex->reply_error(Error::invalid_param("Invalid user id"));
  }
  auto txn = ctx.store->begin_read();
  if (user_id != who.user_id && !rooms::users_sharing_rooms(*txn, who.user_id).count(user_id)) {
    return ex->reply_error(Error::forbidden("You are not allowed to see their presence"));
  }
  auto p = streams::get_presence(*txn, user_id).value_or(streams::Presence{});
  ex->reply_json(200, streams::presence_content(p, now_ms()));
}

}  // namespace

void register_presence_routes(http::Router& r, ServerContext& ctx) {
  add_authed(r, ctx, "PUT", v3("/presence/{userId}/status"),
             [&ctx](auto& ex, auto& who) { set_presence(ctx, ex, who); });
  add_authed(r, ctx, "GET", v3("/presence/{userId}/status"),
             [&ctx](auto& ex, auto& who) { get_presence(ctx, ex, who); });
}

}  // namespace haven::client
