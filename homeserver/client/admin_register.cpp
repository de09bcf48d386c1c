// Synapse-compatible shared-secret registration (GET/POST /_synapse/admin/v1/register), as
// register_new_matrix_user and the Complement harness use it.
#include <map>

#include "crypto/hash.h"
#include "crypto/random.h"
#include "homeserver/accounts/registration.h"
#include "homeserver/client/routes.h"

namespace haven::client {

namespace {
constexpr int64_t kNonceLifetimeMs = 60'000;

// Issued nonces and when; each may be used once.
std::map<std::string, int64_t>& nonces() {
  static std::map<std::string, int64_t> n;
  return n;
}

// GET /_synapse/admin/v1/register
void get_nonce(const http::ExchangePtr& ex) {
  int64_t now = now_ms();
  std::erase_if(nonces(), [now](auto& kv) { return now - kv.second > kNonceLifetimeMs; });
  std::string nonce = crypto::random_token(32);
  nonces()[nonce] = now;
  ex->reply_json(200, "{\"nonce\":\"" + nonce + "\"}");
}

// POST /_synapse/admin/v1/register
void shared_secret_register(ServerContext& ctx, const http::ExchangePtr& ex) {
  if (ctx.config.registration_shared_secret.empty()) {
    return ex->reply_error(
        Error::with(400, "M_UNKNOWN", "Shared secret registration is not enabled"));
  }
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto nonce = json::required_string(*body, "nonce");
  auto username = json::required_string(*body, "username");
  auto password = json::required_string(*body, "password");
  auto mac = json::required_string(*body, "mac");
  for (auto* r : {&nonce, &username, &password, &mac}) {
    if (!r->ok()) return ex->reply_error(r->error());
  }
  auto admin = json::optional_bool(*body, "admin");
  auto displayname = json::optional_string(*body, "displayname");
  if (!admin.ok()) return ex->reply_error(admin.error());
  if (!displayname.ok()) return ex->reply_error(displayname.error());
  auto it = nonces().find(*nonce);
  if (it == nonces().end() || now_ms() - it->second > kNonceLifetimeMs) {
    return ex->reply_error(Error::with(400, "M_UNKNOWN", "unrecognised nonce"));
  }
  nonces().erase(it);
  bool is_admin = admin->value_or(false);
  std::string message =
      *nonce + '\0' + *username + '\0' + *password + '\0' + (is_admin ? "admin" : "notadmin");
  std::string want =
      crypto::to_hex(crypto::hmac_sha1(ctx.config.registration_shared_secret, message));
  if (!crypto::constant_time_equal(want, *mac)) {
    return ex->reply_error(Error::forbidden("HMAC incorrect"));
  }
  accounts::NewAccount account;
  account.localpart = *username;
  account.password = *password;
  account.admin = is_admin;
  account.displayname = displayname->value_or("");
  accounts::create_account(ctx, account, [&ctx, ex](Result<accounts::Session> r) {
    if (!r.ok()) return ex->reply_error(r.error());
    auto d = json::object();
    auto& a = d.GetAllocator();
    json::set(d, "user_id", r->user_id, a);
    json::set(d, "access_token", r->access_token, a);
    json::set(d, "device_id", r->device_id, a);
    json::set(d, "home_server", ctx.server_name, a);
    ex->reply_json(200, d);
  });
}
}  // namespace

void register_admin_register_routes(http::Router& r, ServerContext& ctx) {
  r.add("GET", "/_synapse/admin/v1/register", [](auto& ex) { get_nonce(ex); });
  r.add("POST", "/_synapse/admin/v1/register",
        [&ctx](auto& ex) { shared_secret_register(ctx, ex); });
}

}  // namespace haven::client
