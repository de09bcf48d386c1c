// Client-Server API: registration, login, logout, whoami, password change, deactivation.
#include "appservices/appservices.h"
#include "crypto/password.h"
#include "crypto/random.h"
#include "homeserver/accounts/account_store.h"
#include "homeserver/accounts/registration.h"
#include "homeserver/accounts/registration_tokens.h"
#include "homeserver/base/rate_limiter.h"
#include "homeserver/base/write.h"
#include "homeserver/client/account_ops.h"
#include "homeserver/client/keys.h"
#include "homeserver/client/room_send.h"
#include "homeserver/client/routes.h"
#include "homeserver/client/uia.h"
#include "homeserver/e2ee/device_lists.h"

namespace haven::client {

namespace {

void reply_session(const http::ExchangePtr& ex, ServerContext& ctx, const accounts::Session& s) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "user_id", s.user_id, a);
  if (!s.access_token.empty()) {
    json::set(d, "access_token", s.access_token, a);
    json::set(d, "device_id", s.device_id, a);
  }
  json::set(d, "home_server", ctx.server_name, a);
  ex->user_id = s.user_id;
  ex->reply_json(200, d);
}

bool rate_limited(ServerContext& ctx, const http::ExchangePtr& ex, const char* action,
                  const conf::RateLimit& limit) {
  int64_t retry = 0;
  if (ctx.rate_limiter->allow(action, ex->peer_address(), limit, now_ms(), &retry)) return false;
  ex->reply_error(Error::limit_exceeded(retry));
  return true;
}

// The localpart a login or registration names: "alice" or "@alice:server".
Result<std::string> localpart_of(ServerContext& ctx, const std::string& user) {
  if (user.empty() || user[0] != '@') return user;
  auto colon = user.find(':');
  if (colon == std::string::npos || user.substr(colon + 1) != ctx.server_name) {
    return Error::forbidden("Invalid username or password");
  }
  return user.substr(1, colon - 1);
}

std::string lowercase(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void count_token_use(ServerContext& ctx, const std::string& token) {
  write<bool>(
      *ctx.store,
      [token](storage::WriteTxn& txn) -> Result<bool> {
        auto t = accounts::get_registration_token(txn, token);
        if (!t) return true;
        t->completed += 1;
        HAVEN_TRY(check(accounts::put_registration_token(txn, *t)));
        return true;
      },
      [](Result<bool>) {});
}

// M_EXCLUSIVE when an application service holds the user ID in an exclusive namespace.
Status check_not_exclusive(ServerContext& ctx, const std::string& localpart) {
  if (!ctx.appservices) return {};
  std::string user_id = "@" + localpart + ":" + ctx.server_name;
  if (ctx.appservices->registry().exclusive_owner_of_user(user_id)) {
    return Error::with(400, "M_EXCLUSIVE", "This user ID is reserved by an application service");
  }
  return {};
}

// The application service a /register or /login of type m.login.application_service comes
// from: its as_token is required (M_MISSING_TOKEN, M_UNKNOWN_TOKEN).
Result<const appservice::AppService*> requesting_appservice(ServerContext& ctx,
                                                            const http::Exchange& ex) {
  auto token = access_token_of(ex);
  if (!token || token->empty()) return Error::missing_token("Missing the application service's token");
  const auto* service = appservice_of_token(ctx, *token);
  if (!service) return Error::unknown_token("Unknown application service token");
  return service;
}

// POST /_matrix/client/v3/register with type m.login.application_service: a passwordless user
// in the service's namespace, without the registration flows or rate limits.
void register_appservice_user(ServerContext& ctx, const http::ExchangePtr& ex,
                              const json::Document& body) {
  auto service = requesting_appservice(ctx, *ex);
  if (!service.ok()) return ex->reply_error(service.error());
  auto username = json::required_string(body, "username");
  if (!username.ok()) return ex->reply_error(username.error());
  auto device_id = json::optional_string(body, "device_id");
  auto device_name = json::optional_string(body, "initial_device_display_name");
  auto inhibit = json::optional_bool(body, "inhibit_login");
  if (!device_id.ok()) return ex->reply_error(device_id.error());
  if (!device_name.ok()) return ex->reply_error(device_name.error());
  if (!inhibit.ok()) return ex->reply_error(inhibit.error());
  auto lp = localpart_of(ctx, *username);
  if (!lp.ok()) return ex->reply_error(Error::invalid_param("User ID is not on this server"));
  if (auto s = accounts::check_localpart(*lp, ctx.server_name); !s.ok()) {
    return ex->reply_error(s.error());
  }
  std::string user_id = "@" + *lp + ":" + ctx.server_name;
  const auto* owner = ctx.appservices->registry().exclusive_owner_of_user(user_id);
  if (!(*service)->is_interested_in_user(user_id) || (owner && owner != *service)) {
    return ex->reply_error(Error::with(400, "M_EXCLUSIVE",
                                       "This user ID is not in the application service's namespace"));
  }
  accounts::NewAccount account;
  account.localpart = *lp;
  account.device_id = *device_id;
  account.device_display_name = device_name->value_or("");
  account.inhibit_login = inhibit->value_or(false);
  accounts::create_account(ctx, account, [&ctx, ex](Result<accounts::Session> r) {
    if (!r.ok()) return ex->reply_error(r.error());
    reply_session(ex, ctx, r.value());
  });
}

// POST /_matrix/client/v3/register
void register_user(ServerContext& ctx, const http::ExchangePtr& ex) {
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  if (json::get_string(*body, "type") == "m.login.application_service") {
    return register_appservice_user(ctx, ex, *body);
  }
  if (rate_limited(ctx, ex, "register", ctx.config.rc_registration)) return;
  std::string kind = ex->query("kind").value_or("user");
  if (kind == "guest") {
    return ex->reply_error(Error::forbidden("Guest access is disabled"));
  }
  if (kind != "user") return ex->reply_error(Error::invalid_param("Unknown kind"));
  if (!ctx.config.enable_registration) {
    return ex->reply_error(Error::forbidden("Registration has been disabled"));
  }
  auto username = json::optional_string(*body, "username");
  auto password = json::optional_string(*body, "password");
  auto device_id = json::optional_string(*body, "device_id");
  auto device_name = json::optional_string(*body, "initial_device_display_name");
  auto inhibit = json::optional_bool(*body, "inhibit_login");
  for (auto* r : {&username, &password, &device_id, &device_name}) {
    if (!r->ok()) return ex->reply_error(r->error());
  }
  if (!inhibit.ok()) return ex->reply_error(inhibit.error());
  if (password->has_value() && (*password)->size() > 512) {
    return ex->reply_error(Error::invalid_param("Password is too long"));
  }
  accounts::NewAccount account;
  account.localpart = username->has_value() ? lowercase(**username) : "";
  if (account.localpart.empty()) account.localpart = "u" + crypto::random_token(12);
  std::transform(account.localpart.begin(), account.localpart.end(), account.localpart.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (auto s = accounts::check_localpart(account.localpart, ctx.server_name); !s.ok()) {
    return ex->reply_error(s.error());
  }
  if (auto s = check_not_exclusive(ctx, account.localpart); !s.ok()) {
    return ex->reply_error(s.error());
  }
  {
    auto txn = ctx.store->begin_read();
    if (accounts::localpart_taken(*txn, account.localpart)) {
      return ex->reply_error(Error::with(400, "M_USER_IN_USE", "User ID already taken."));
    }
  }
  account.password = password->value_or("");
  account.device_id = *device_id;
  account.device_display_name = device_name->value_or("");
  account.inhibit_login = inhibit->value_or(false);

  std::vector<Flow> flows = {
      {ctx.config.registration_requires_token ? "m.login.registration_token" : "m.login.dummy"}};
  auto used_token = std::make_shared<std::string>();
  auto proceed = [&ctx, ex, account, used_token] {
    accounts::create_account(ctx, account, [&ctx, ex, used_token](Result<accounts::Session> r) {
      if (!r.ok()) return ex->reply_error(r.error());
      if (!used_token->empty()) count_token_use(ctx, *used_token);
      reply_session(ex, ctx, r.value());
    });
  };
  UiaSessions::StageCheck check_token = [&ctx, used_token](const json::Value& auth) -> Status {
    std::string token = json::get_string(auth, "token");
    auto txn = ctx.store->begin_read();
    auto t = accounts::get_registration_token(*txn, token);
    if (!t || !accounts::registration_token_usable(*t, now_ms())) {
      return Error::with(401, "M_FORBIDDEN", "Invalid registration token");
    }
    *used_token = token;
    return {};
  };
  ctx.uia->run(ctx, ex, *body, flows, "", proceed, check_token);
}

// GET /_matrix/client/v3/register/available
void username_available(ServerContext& ctx, const http::ExchangePtr& ex) {
  auto name = ex->query("username");
  if (!name) return ex->reply_error(Error::missing_param("Missing 'username'"));
  if (rate_limited(ctx, ex, "register", ctx.config.rc_registration)) return;
  std::string lp = lowercase(*name);
  if (auto s = accounts::check_localpart(lp, ctx.server_name); !s.ok()) {
    return ex->reply_error(s.error());
  }
  if (auto s = check_not_exclusive(ctx, lp); !s.ok()) return ex->reply_error(s.error());
  auto txn = ctx.store->begin_read();
  if (accounts::localpart_taken(*txn, lp)) {
    return ex->reply_error(Error::with(400, "M_USER_IN_USE", "User ID already taken."));
  }
  ex->reply_json(200, R"({"available":true})");
}

// GET /_matrix/client/v3/login
void login_flows(ServerContext&, const http::ExchangePtr& ex) {
  ex->reply_json(200,
                 R"({"flows":[{"type":"m.login.password"},{"type":"m.login.application_service"}]})");
}

// The user a login names: "user" or an m.id.user identifier.
Result<std::string> login_user_of(const json::Document& body) {
  std::string user = json::get_string(body, "user");
  auto id = body.FindMember("identifier");
  if (id != body.MemberEnd()) {
    if (!id->value.IsObject()) return Error::bad_json("Invalid identifier");
    if (json::get_string(id->value, "type") != "m.id.user") {
      return Error::with(400, "M_UNKNOWN", "Unknown identifier type");
    }
    auto id_user = json::required_string(id->value, "user");
    if (!id_user.ok()) return id_user.error();
    user = *id_user;
  }
  if (user.empty()) return Error::missing_param("Missing user identifier");
  return user;
}

// POST /_matrix/client/v3/login with type m.login.application_service: a device for a user
// of the service's namespace, without a password.
void login_appservice_user(ServerContext& ctx, const http::ExchangePtr& ex,
                           const json::Document& body) {
  auto service = requesting_appservice(ctx, *ex);
  if (!service.ok()) return ex->reply_error(service.error());
  if ((*service)->registration().msc4190) {
    return ex->reply_error(Error::with(400, "M_APPSERVICE_LOGIN_UNSUPPORTED",
                                       "This application service manages its devices (MSC4190)"));
  }
  auto user = login_user_of(body);
  if (!user.ok()) return ex->reply_error(user.error());
  auto device_id = json::optional_string(body, "device_id");
  auto device_name = json::optional_string(body, "initial_device_display_name");
  if (!device_id.ok()) return ex->reply_error(device_id.error());
  if (!device_name.ok()) return ex->reply_error(device_name.error());
  auto lp = localpart_of(ctx, *user);
  if (!lp.ok()) return ex->reply_error(Error::with(400, "M_EXCLUSIVE", "User is not on this server"));
  std::string user_id = "@" + lowercase(*lp) + ":" + ctx.server_name;
  if (!(*service)->is_interested_in_user(user_id)) {
    return ex->reply_error(Error::with(400, "M_EXCLUSIVE",
                                       "This user ID is not in the application service's namespace"));
  }
  {
    auto txn = ctx.store->begin_read();
    auto record = accounts::get_user(*txn, user_id);
    if (!record) return ex->reply_error(Error::forbidden("Unknown user"));
    if (record->deactivated) {
      return ex->reply_error(Error::with(403, "M_USER_DEACTIVATED", "This account is deactivated"));
    }
  }
  accounts::login_device(ctx, user_id, *device_id, device_name->value_or(""),
                         [&ctx, ex](Result<accounts::Session> r) {
                           if (!r.ok()) return ex->reply_error(r.error());
                           reply_session(ex, ctx, r.value());
                         });
}

// POST /_matrix/client/v3/login
void login(ServerContext& ctx, const http::ExchangePtr& ex) {
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  std::string type = json::get_string(*body, "type");
  if (type == "m.login.application_service") return login_appservice_user(ctx, ex, *body);
  if (rate_limited(ctx, ex, "login", ctx.config.rc_login)) return;
  if (type != "m.login.password") {
    return ex->reply_error(Error::with(400, "M_UNKNOWN", "Unknown login type"));
  }
  auto named = login_user_of(*body);
  if (!named.ok() && named.error().errcode != "M_MISSING_PARAM") {
    return ex->reply_error(named.error());
  }
  auto password = json::required_string(*body, "password");
  if (!password.ok()) return ex->reply_error(password.error());
  if (!named.ok()) return ex->reply_error(named.error());
  const std::string& user = *named;
  auto device_id = json::optional_string(*body, "device_id");
  auto device_name = json::optional_string(*body, "initial_device_display_name");
  if (!device_id.ok()) return ex->reply_error(device_id.error());
  if (!device_name.ok()) return ex->reply_error(device_name.error());
  auto lp = localpart_of(ctx, user);
  if (!lp.ok()) return ex->reply_error(lp.error());
  std::string user_id = "@" + lowercase(*lp) + ":" + ctx.server_name;
  auto txn = ctx.store->begin_read();
  auto record = accounts::get_user(*txn, user_id);
  txn.reset();
  if (record && record->deactivated) {
    return ex->reply_error(Error::with(403, "M_USER_DEACTIVATED", "This account is deactivated"));
  }
  std::string hash = record ? record->password_hash : std::string();
  ctx.workers->run<bool>(
      *ctx.loop,
      [pw = *password, hash] { return !hash.empty() && crypto::verify_password(pw, hash); },
      [&ctx, ex, user_id, dev = *device_id, name = device_name->value_or("")](bool ok) {
        if (ex->closed()) return;
        if (!ok) return ex->reply_error(Error::forbidden("Invalid username or password"));
        accounts::login_device(ctx, user_id, dev, name, [&ctx, ex](Result<accounts::Session> r) {
          if (!r.ok()) return ex->reply_error(r.error());
          reply_session(ex, ctx, r.value());
        });
      });
}

// POST /_matrix/client/v3/logout
void logout(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  write<bool>(
      *ctx.store,
      [who](storage::WriteTxn& txn) -> Result<bool> {
        HAVEN_TRY(check(accounts::delete_device(txn, who.user_id, who.device_id)));
        HAVEN_TRY(check(e2ee::forget_device_keys(txn, who.user_id, who.device_id)));
        return true;
      },
      [&ctx, ex, who](Result<bool> r) {
        if (r.ok()) notify_device_list_changed(ctx, who.user_id);
        reply_empty(ex)(std::move(r));
      });
}

// POST /_matrix/client/v3/logout/all
void logout_all(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  write<bool>(
      *ctx.store,
      [who](storage::WriteTxn& txn) -> Result<bool> {
        HAVEN_TRY(remove_devices(txn, who.user_id, std::nullopt));
        return true;
      },
      [&ctx, ex, who](Result<bool> r) {
        if (r.ok()) notify_device_list_changed(ctx, who.user_id);
        reply_empty(ex)(std::move(r));
      });
}

// GET /_matrix/client/v3/account/whoami
void whoami(ServerContext&, const http::ExchangePtr& ex, const Requester& who) {
  auto d = json::object();
  json::set(d, "user_id", who.user_id, d.GetAllocator());
  json::set(d, "device_id", who.device_id, d.GetAllocator());
  json::set(d, "is_guest", who.is_guest, d.GetAllocator());
  ex->reply_json(200, d);
}

// POST /_matrix/client/v3/account/password
void change_password(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto parsed = parse_body(ctx, *ex);
  if (!parsed.ok()) return ex->reply_error(parsed.error());
  auto body = std::make_shared<json::Document>(std::move(parsed.value()));
  auto new_password = json::required_string(*body, "new_password");
  if (!new_password.ok()) return ex->reply_error(new_password.error());
  if (new_password->empty() || new_password->size() > 512) {
    return ex->reply_error(Error::with(400, "M_WEAK_PASSWORD", "Password must be 1-512 bytes"));
  }
  bool logout_devices = json::get_bool(*body, "logout_devices", true);
  ctx.uia->run(ctx, ex, *body, {{"m.login.password"}}, who.user_id,
               [&ctx, ex, who, pw = *new_password, logout_devices] {
                 set_password(ctx, who.user_id, pw, logout_devices, who.device_id,
                              reply_empty(ex));
               });
}

// POST /_matrix/client/v3/account/deactivate
void deactivate(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto parsed = parse_body(ctx, *ex);
  if (!parsed.ok()) return ex->reply_error(parsed.error());
  auto body = std::make_shared<json::Document>(std::move(parsed.value()));
  ctx.uia->run(ctx, ex, *body, {{"m.login.password"}}, who.user_id, [&ctx, ex, who] {
    deactivate_account(ctx, who.user_id, [ex](Result<bool> r) {
      if (!r.ok()) return ex->reply_error(r.error());
      ex->reply_json(200, R"({"id_server_unbind_result":"no-support"})");
    });
  });
}

}  // namespace

void register_account_routes(http::Router& r, ServerContext& ctx) {
  r.add("POST", v3("/register"), [&ctx](auto& ex) { register_user(ctx, ex); });
  r.add("GET", v3("/register/available"), [&ctx](auto& ex) { username_available(ctx, ex); });
  r.add("GET", v3("/login"), [&ctx](auto& ex) { login_flows(ctx, ex); });
  r.add("POST", v3("/login"), [&ctx](auto& ex) { login(ctx, ex); });
  add_authed(r, ctx, "POST", v3("/logout"), [&ctx](auto& ex, auto& who) { logout(ctx, ex, who); });
  add_authed(r, ctx, "POST", v3("/logout/all"),
             [&ctx](auto& ex, auto& who) { logout_all(ctx, ex, who); });
  add_authed(r, ctx, "GET", v3("/account/whoami"),
             [&ctx](auto& ex, auto& who) { whoami(ctx, ex, who); });
  add_authed(r, ctx, "POST", v3("/account/password"),
             [&ctx](auto& ex, auto& who) { change_password(ctx, ex, who); });
  add_authed(r, ctx, "POST", v3("/account/deactivate"),
             [&ctx](auto& ex, auto& who) { deactivate(ctx, ex, who); });
}

}  // namespace haven::client
