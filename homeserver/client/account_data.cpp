// Client-Server API: account data, global and per room (GET/PUT, only for yourself).
#include "homeserver/base/write.h"
#include "homeserver/client/routes.h"
#include "homeserver/email/notifier.h"
#include "homeserver/email/settings.h"
#include "homeserver/rooms/ids.h"
#include "homeserver/sync/notifier.h"
#include "homeserver/sync/streams.h"

namespace haven::client {

namespace {

constexpr size_t kMaxContentBytes = 64 * 1024;
constexpr size_t kMaxTypeBytes = 255;

// Which item a request names: path {userId}[/rooms/{roomId}]/account_data/{type}.
struct AccountDataRef {
  std::string user_id;
  std::string room_id;  // "" for global account data
  std::string type;
};

Result<AccountDataRef> account_data_ref(const http::Exchange& ex, const Requester& who,
                                        bool per_room) {
  AccountDataRef ref;
  ref.user_id = ex.params[0];
  if (per_room) ref.room_id = ex.params[1];
  ref.type = ex.params[per_room ? 2 : 1];
  if (ref.user_id != who.user_id) {
    return Error::forbidden("Cannot access account data of other users");
  }
  if (per_room && !rooms::is_valid_room_id(ref.room_id)) {
    return Error::invalid_param("Invalid room id");
  }
  if (ref.type.empty() || ref.type.size() > kMaxTypeBytes ||
      ref.type.find('\0') != std::string::npos || !rooms::is_valid_utf8(ref.type)) {
    return Error::invalid_param("Invalid account data type");
  }
  return ref;
}

// GET /user/{userId}/account_data/{type}
// GET /user/{userId}/rooms/{roomId}/account_data/{type}
void get_account_data(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who,
                      bool per_room) {
  auto ref = account_data_ref(*ex, who, per_room);
  if (!ref.ok()) return ex->reply_error(ref.error());
  auto txn = ctx.store->begin_read();
  auto content = streams::get_account_data(*txn, ref->user_id, ref->room_id, ref->type);
  if (!content) return ex->reply_error(Error::not_found("Account data not found"));
  ex->reply_json(200, *content);
}

// PUT /user/{userId}/account_data/{type}
// PUT /user/{userId}/rooms/{roomId}/account_data/{type}
void set_account_data(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who,
                      bool per_room) {
  auto ref = account_data_ref(*ex, who, per_room);
  if (!ref.ok()) return ex->reply_error(ref.error());
  if (ref->type == "m.fully_read" || ref->type == "m.push_rules") {
    return ex->reply_error(
        Error::with(405, "M_BAD_JSON", "Cannot set " + ref->type + " through this API"));
  }
  if (ex->body().size() > kMaxContentBytes) {
    return ex->reply_error(Error::too_large("Account data content is larger than 64 KiB"));
  }
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  if (ref->room_id.empty() && ref->type == email::kSettingsType) {
    if (auto s = email::check_settings(*body); !s.ok()) return ex->reply_error(s.error());
  }
  write<bool>(
      *ctx.store,
      [ref = *ref, content = json::to_string(*body)](storage::WriteTxn& txn) -> Result<bool> {
        HAVEN_TRY(
            check(streams::put_account_data(txn, ref.user_id, ref.room_id, ref.type, content)));
        return true;
      },
      [&ctx, ex, user_id = who.user_id](Result<bool> r) {
        if (!r.ok()) return ex->reply_error(r.error());
        ctx.notifier->notify_user(user_id);
        if (ctx.email) ctx.email->recheck(user_id);  // the frequency may have changed
        ex->reply_json(200, "{}");
      });
}

}  // namespace

void register_account_data_routes(http::Router& r, ServerContext& ctx) {
  const std::string global = v3("/user/{userId}/account_data/{type}");
  const std::string room = v3("/user/{userId}/rooms/{roomId}/account_data/{type}");
  add_authed(r, ctx, "GET", global,
             [&ctx](auto& ex, auto& who) { get_account_data(ctx, ex, who, false); });
  add_authed(r, ctx, "PUT", global,
             [&ctx](auto& ex, auto& who) { set_account_data(ctx, ex, who, false); });
  add_authed(r, ctx, "GET", room,
             [&ctx](auto& ex, auto& who) { get_account_data(ctx, ex, who, true); });
  add_authed(r, ctx, "PUT", room,
             [&ctx](auto& ex, auto& who) { set_account_data(ctx, ex, who, true); });
}

}  // namespace haven::client
