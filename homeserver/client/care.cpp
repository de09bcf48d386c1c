// Client-Server API extension of the care rules, under /_matrix/client/unstable/org.haven/:
// a user's own role and their contacts (documented in README.md). 404 M_UNRECOGNIZED when the
// care rules are off.
#include "homeserver/accounts/account_store.h"
#include "homeserver/client/routes.h"
#include "homeserver/policy/care_rules.h"

namespace haven::client {

namespace {

const std::string kPrefix = "/_matrix/client/unstable/org.haven";

Status require_care(const ServerContext& ctx) {
  if (!ctx.care) return Error::unrecognized("The care rules are off on this server");
  return {};
}

// GET /_matrix/client/unstable/org.haven/role
void get_own_role(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  if (auto s = require_care(ctx); !s.ok()) return ex->reply_error(s.error());
  auto txn = ctx.store->begin_read();
  auto d = json::object();
  json::set(d, "role", policy::role_name(ctx.care->role_of(*txn, who.user_id)), d.GetAllocator());
  ex->reply_json(200, d);
}

// GET /_matrix/client/unstable/org.haven/contacts
void get_own_contacts(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  if (auto s = require_care(ctx); !s.ok()) return ex->reply_error(s.error());
  auto txn = ctx.store->begin_read();
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value contacts(rapidjson::kArrayType);
  for (const std::string& user_id : ctx.care->contacts_of(*txn, who.user_id)) {
    json::Value c(rapidjson::kObjectType);
    json::set(c, "user_id", user_id, a);
    if (ctx.care->is_local(user_id)) {
      auto user = accounts::get_user(*txn, user_id);
      if (!user || user->deactivated) continue;
      json::set(c, "role", policy::role_name(ctx.care->role_of(*txn, user_id)), a);
      if (!user->displayname.empty()) json::set(c, "displayname", user->displayname, a);
      if (!user->avatar_url.empty()) json::set(c, "avatar_url", user->avatar_url, a);
    }
    contacts.PushBack(std::move(c), a);
  }
  json::set(d, "contacts", std::move(contacts), a);
  ex->reply_json(200, d);
}

}  // namespace

void register_care_routes(http::Router& r, ServerContext& ctx) {
  add_authed(r, ctx, "GET", kPrefix + "/role",
             [&ctx](auto& ex, auto& who) { get_own_role(ctx, ex, who); });
  add_authed(r, ctx, "GET", kPrefix + "/contacts",
             [&ctx](auto& ex, auto& who) { get_own_contacts(ctx, ex, who); });
}

}  // namespace haven::client
