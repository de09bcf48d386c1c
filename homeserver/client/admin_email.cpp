// Haven's admin API for new-message emails, under /_haven/admin/v1 (server admins only): how
// often a user gets notices. The value lives in the user's account data
// (org.haven.notifications), so the user's clients see the change; the address itself is
// /users/{userId}/email (admin_care.cpp). Documented in README.md.
#include "homeserver/accounts/account_store.h"
#include "homeserver/base/write.h"
#include "homeserver/client/admin_params.h"
#include "homeserver/client/routes.h"
#include "homeserver/email/notifier.h"
#include "homeserver/email/settings.h"
#include "homeserver/sync/notifier.h"
#include "homeserver/sync/streams.h"

namespace haven::client {

namespace {

const std::string kPrefix = "/_haven/admin/v1";

// The {userId} of the path, when it names an existing local user.
Result<std::string> existing_local_user(ServerContext& ctx, const http::Exchange& ex) {
  auto user_id =
      local_user_id(ctx, ex.params[0], "This endpoint can only be used with local users");
  if (!user_id.ok()) return user_id;
  auto txn = ctx.store->begin_read();
  if (!txn || !accounts::get_user(*txn, *user_id)) return Error::not_found("User not found");
  return user_id;
}

void reply_frequency(const http::ExchangePtr& ex, email::Frequency f) {
  auto d = json::object();
  json::set(d, "email_frequency", email::frequency_name(f), d.GetAllocator());
  ex->reply_json(200, d);
}

// GET /_haven/admin/v1/users/{userId}/notifications
void get_notifications(ServerContext& ctx, const http::ExchangePtr& ex, const Requester&) {
  auto user_id = existing_local_user(ctx, *ex);
  if (!user_id.ok()) return ex->reply_error(user_id.error());
  auto txn = ctx.store->begin_read();
  reply_frequency(ex, email::frequency_of(*txn, *user_id));
}

// PUT /_haven/admin/v1/users/{userId}/notifications {"email_frequency": "immediate"|...}
void put_notifications(ServerContext& ctx, const http::ExchangePtr& ex, const Requester&) {
  auto user_id = existing_local_user(ctx, *ex);
  if (!user_id.ok()) return ex->reply_error(user_id.error());
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto name = json::required_string(*body, "email_frequency");
  if (!name.ok()) return ex->reply_error(name.error());
  if (auto s = email::check_settings(*body); !s.ok()) return ex->reply_error(s.error());
  email::Frequency frequency = *email::parse_frequency(*name);
  write<bool>(
      *ctx.store,
      [user_id = *user_id, name = *name](storage::WriteTxn& txn) -> Result<bool> {
        // The client's other fields in the same account data stay as they are.
        json::Document content;
        if (auto old = streams::get_account_data(txn, user_id, "", email::kSettingsType); old) {
          content = json::parse_trusted(*old);
        }
        if (!content.IsObject()) content.SetObject();
        content.RemoveMember("email_frequency");
        json::set(content, "email_frequency", name, content.GetAllocator());
        HAVEN_TRY(check(streams::put_account_data(txn, user_id, "", email::kSettingsType,
                                                  json::to_string(content))));
        return true;
      },
      [&ctx, ex, user_id = *user_id, frequency](Result<bool> r) {
        if (!r.ok()) return ex->reply_error(r.error());
        ctx.notifier->notify_user(user_id);
        if (ctx.email) ctx.email->recheck(user_id);
        reply_frequency(ex, frequency);
      });
}

}  // namespace

void register_email_admin_routes(http::Router& r, ServerContext& ctx) {
  add_admin(r, ctx, "GET", kPrefix + "/users/{userId}/notifications",
            [&ctx](auto& ex, auto& who) { get_notifications(ctx, ex, who); });
  add_admin(r, ctx, "PUT", kPrefix + "/users/{userId}/notifications",
            [&ctx](auto& ex, auto& who) { put_notifications(ctx, ex, who); });
}

}  // namespace haven::client
