// Registration tokens: the client's validity check and Synapse's admin API to manage them.
#include "homeserver/accounts/registration_tokens.h"

#include "crypto/random.h"
#include "homeserver/base/write.h"
#include "homeserver/client/routes.h"

namespace haven::client {

namespace {

constexpr const char* kAdminBase = "/_synapse/admin/v1/registration_tokens";

json::Value token_json(const accounts::RegistrationToken& t, json::Alloc& a) {
  json::Value v(rapidjson::kObjectType);
  json::set(v, "token", t.token, a);
  v.AddMember("uses_allowed", t.uses_allowed ? json::Value(*t.uses_allowed) : json::Value(), a);
  json::set(v, "pending", t.pending, a);
  json::set(v, "completed", t.completed, a);
  v.AddMember("expiry_time", t.expiry_time ? json::Value(*t.expiry_time) : json::Value(), a);
  return v;
}

void reply_token(const http::ExchangePtr& ex, const accounts::RegistrationToken& t) {
  rapidjson::Document d;
  json::Value v = token_json(t, d.GetAllocator());
  ex->reply_json(200, v);
}

bool valid_token_text(const std::string& t) {
  if (t.empty() || t.size() > 64) return false;
  for (char c : t) {
    if (!isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '~' && c != '-') {
      return false;
    }
  }
  return true;
}

// Reads uses_allowed / expiry_time (null allowed) into `t`.
Status apply_limits(const json::Value& body, accounts::RegistrationToken& t) {
  for (const char* key : {"uses_allowed", "expiry_time"}) {
    auto it = body.FindMember(key);
    if (it == body.MemberEnd()) continue;
    std::optional<int64_t>& field =
        std::string_view(key) == "uses_allowed" ? t.uses_allowed : t.expiry_time;
    if (it->value.IsNull()) {
      field.reset();
    } else if (it->value.IsInt64() && it->value.GetInt64() >= 0) {
      field = it->value.GetInt64();
    } else {
      return Error::invalid_param(std::string(key) + " must be a non-negative integer or null");
    }
  }
  return {};
}

// GET /_matrix/client/v1/register/m.login.registration_token/validity
void validity(ServerContext& ctx, const http::ExchangePtr& ex) {
  auto token = ex->query("token");
  if (!token) return ex->reply_error(Error::missing_param("Missing 'token'"));
  auto txn = ctx.store->begin_read();
  auto t = accounts::get_registration_token(*txn, *token);
  bool valid = t && accounts::registration_token_usable(*t, now_ms());
  ex->reply_json(200, valid ? R"({"valid":true})" : R"({"valid":false})");
}

// POST /_synapse/admin/v1/registration_tokens/new
void create_token(ServerContext& ctx, const http::ExchangePtr& ex) {
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  accounts::RegistrationToken t;
  auto text = json::optional_string(*body, "token");
  auto length = json::optional_int(*body, "length");
  if (!text.ok()) return ex->reply_error(text.error());
  if (!length.ok()) return ex->reply_error(length.error());
  if (text->has_value()) {
    if (!valid_token_text(**text)) return ex->reply_error(Error::invalid_param("Invalid token"));
    t.token = **text;
  } else {
    int64_t n = length->value_or(16);
    if (n < 1 || n > 64) return ex->reply_error(Error::invalid_param("length must be 1-64"));
    t.token = crypto::random_token(static_cast<size_t>(n));
  }
  if (auto s = apply_limits(*body, t); !s.ok()) return ex->reply_error(s.error());
  write<accounts::RegistrationToken>(
      *ctx.store,
      [t](storage::WriteTxn& txn) -> Result<accounts::RegistrationToken> {
        if (accounts::get_registration_token(txn, t.token)) {
          return Error::invalid_param("Token already exists");
        }
        HAVEN_TRY(check(accounts::put_registration_token(txn, t)));
        return t;
      },
      [ex](Result<accounts::RegistrationToken> r) {
        if (!r.ok()) return ex->reply_error(r.error());
        reply_token(ex, *r);
      });
}

// GET /_synapse/admin/v1/registration_tokens
void list_tokens(ServerContext& ctx, const http::ExchangePtr& ex) {
  auto txn = ctx.store->begin_read();
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value list(rapidjson::kArrayType);
  for (auto& t : accounts::list_registration_tokens(*txn)) list.PushBack(token_json(t, a), a);
  json::set(d, "registration_tokens", std::move(list), a);
  ex->reply_json(200, d);
}

// GET /_synapse/admin/v1/registration_tokens/{token}
void get_token(ServerContext& ctx, const http::ExchangePtr& ex) {
  auto txn = ctx.store->begin_read();
  auto t = accounts::get_registration_token(*txn, ex->params[0]);
  if (!t) return ex->reply_error(Error::not_found("No such registration token"));
  reply_token(ex, *t);
}

// PUT /_synapse/admin/v1/registration_tokens/{token}
void update_token(ServerContext& ctx, const http::ExchangePtr& ex) {
  auto parsed = parse_body(ctx, *ex);
  if (!parsed.ok()) return ex->reply_error(parsed.error());
  auto body = std::make_shared<json::Document>(std::move(parsed.value()));
  std::string token = ex->params[0];
  write<accounts::RegistrationToken>(
      *ctx.store,
      [token, body](storage::WriteTxn& txn) -> Result<accounts::RegistrationToken> {
        auto t = accounts::get_registration_token(txn, token);
        if (!t) return Error::not_found("No such registration token");
        HAVEN_TRY(apply_limits(*body, *t));
        HAVEN_TRY(check(accounts::put_registration_token(txn, *t)));
        return *t;
      },
      [ex](Result<accounts::RegistrationToken> r) {
        if (!r.ok()) return ex->reply_error(r.error());
        reply_token(ex, *r);
      });
}

// DELETE /_synapse/admin/v1/registration_tokens/{token}
void delete_token(ServerContext& ctx, const http::ExchangePtr& ex) {
  std::string token = ex->params[0];
  write<bool>(
      *ctx.store,
      [token](storage::WriteTxn& txn) -> Result<bool> {
        if (!accounts::get_registration_token(txn, token)) {
          return Error::not_found("No such registration token");
        }
        HAVEN_TRY(check(accounts::delete_registration_token(txn, token)));
        return true;
      },
      reply_empty(ex));
}

}  // namespace

void register_registration_token_routes(http::Router& r, ServerContext& ctx) {
  r.add("GET", "/_matrix/client/v1/register/m.login.registration_token/validity",
        [&ctx](auto& ex) { validity(ctx, ex); });
  std::string base = kAdminBase;
  add_admin(r, ctx, "POST", base + "/new", [&ctx](auto& ex, auto&) { create_token(ctx, ex); });
  add_admin(r, ctx, "GET", base, [&ctx](auto& ex, auto&) { list_tokens(ctx, ex); });
  add_admin(r, ctx, "GET", base + "/{token}", [&ctx](auto& ex, auto&) { get_token(ctx, ex); });
  add_admin(r, ctx, "PUT", base + "/{token}", [&ctx](auto& ex, auto&) { update_token(ctx, ex); });
  add_admin(r, ctx, "DELETE", base + "/{token}",
            [&ctx](auto& ex, auto&) { delete_token(ctx, ex); });
}

}  // namespace haven::client
