// Client-Server API: the user's email address as a third-party identifier (/account/3pid).
// Haven validates addresses itself: requestToken mails a code and a link; the link (or the
// submit_url) confirms the session; /3pid/add (with user-interactive auth) then binds the
// address. One address per user: adding one replaces the previous. Without email configured,
// requestToken answers M_THREEPID_MEDIUM_NOT_SUPPORTED.
#include <algorithm>
#include <cctype>

#include "crypto/hash.h"
#include "crypto/random.h"
#include "homeserver/accounts/account_store.h"
#include "homeserver/accounts/threepid_sessions.h"
#include "homeserver/base/rate_limiter.h"
#include "homeserver/base/write.h"
#include "homeserver/client/routes.h"
#include "homeserver/client/uia.h"
#include "homeserver/email/email_store.h"
#include "homeserver/email/mail_message.h"
#include "homeserver/email/notifier.h"

namespace haven::client {

namespace {

const std::string kSubmitPath = "/_matrix/client/unstable/add_threepid/email/submit_token";
constexpr size_t kMaxClientSecretBytes = 255;
constexpr size_t kMaxNextLinkBytes = 2048;

std::string public_base(const ServerContext& ctx) {
  if (!ctx.config.public_baseurl.empty()) return ctx.config.public_baseurl;
  return "http://" + ctx.config.client_listener.bind_address + ":" +
         std::to_string(ctx.config.client_listener.port) + "/";
}

std::string url_encode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += kHex[ch >> 4];
      out += kHex[ch & 15];
    }
  }
  return out;
}

// The spec's grammar for client_secret: [0-9a-zA-Z.=_-], 1 to 255 characters.
bool is_valid_client_secret(std::string_view s) {
  if (s.empty() || s.size() > kMaxClientSecretBytes) return false;
  for (unsigned char ch : s) {
    if (!std::isalnum(ch) && ch != '.' && ch != '=' && ch != '_' && ch != '-') return false;
  }
  return true;
}

Error threepid_in_use() {
  return Error::with(400, "M_THREEPID_IN_USE", "This email address is already in use");
}

Error auth_failed(std::string why) {
  return Error::with(400, "M_THREEPID_AUTH_FAILED", std::move(why));
}

bool in_use_by_other(storage::ReadTxn& txn, std::string_view email, std::string_view user_id) {
  for (const std::string& owner : accounts::users_with_email(txn, email)) {
    if (owner != user_id) return true;
  }
  return false;
}

// GET /_matrix/client/v3/account/3pid
void get_threepids(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto txn = ctx.store->begin_read();
  auto user = accounts::get_user(*txn, who.user_id);
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value list(rapidjson::kArrayType);
  if (user && !user->email.empty()) {
    json::Value t(rapidjson::kObjectType);
    json::set(t, "medium", "email", a);
    json::set(t, "address", user->email, a);
    json::set(t, "validated_at", user->email_added_ts, a);
    json::set(t, "added_at", user->email_added_ts, a);
    list.PushBack(std::move(t), a);
  }
  json::set(d, "threepids", std::move(list), a);
  ex->reply_json(200, d);
}

struct TokenRequest {
  std::string client_secret;
  std::string email;
  int64_t send_attempt = 0;
};

Result<TokenRequest> parse_token_request(const json::Value& body) {
  TokenRequest r;
  auto secret = json::required_string(body, "client_secret");
  if (!secret.ok()) return std::move(secret).error();
  auto email = json::required_string(body, "email");
  if (!email.ok()) return std::move(email).error();
  auto attempt = json::optional_int(body, "send_attempt");
  if (!attempt.ok()) return std::move(attempt).error();
  if (!*attempt) return Error::missing_param("send_attempt is required");
  auto next_link = json::optional_string(body, "next_link");
  if (!next_link.ok()) return std::move(next_link).error();
  if (*next_link && (*next_link)->size() > kMaxNextLinkBytes) {
    return Error::invalid_param("next_link is too long");
  }
  if (!is_valid_client_secret(*secret)) {
    return Error::invalid_param("client_secret must be 1-255 characters of [0-9a-zA-Z.=_-]");
  }
  if (!email::is_valid_address(*email)) return Error::invalid_param("Invalid email address");
  r.client_secret = std::move(*secret);
  r.email = std::move(*email);
  r.send_attempt = **attempt;
  return r;
}

// The validation mail for `session`, as an outbox entry.
email::OutgoingMail validation_mail(const ServerContext& ctx,
                                    const accounts::ThreepidSession& session) {
  std::string link = public_base(ctx) + kSubmitPath.substr(1) + "?sid=" + url_encode(session.sid) +
                     "&client_secret=" + url_encode(session.client_secret) +
                     "&token=" + url_encode(session.token);
  const std::string& from = ctx.config.email.from;
  email::MailEnvelope envelope{from, session.email, email::validation_subject(), now_ms(),
                               crypto::random_token(24) + from.substr(from.find('@'))};
  email::OutgoingMail mail;
  mail.kind = email::MailKind::kValidation;
  mail.to = session.email;
  mail.message = email::compose_message(envelope, email::validation_body(session.token, link));
  mail.queued_ms = now_ms();
  mail.next_attempt_ms = mail.queued_ms;
  return mail;
}

// POST /_matrix/client/v3/account/3pid/email/requestToken
void request_email_token(ServerContext& ctx, const http::ExchangePtr& ex) {
  if (!ctx.email) {
    return ex->reply_error(
        Error::with(400, "M_THREEPID_MEDIUM_NOT_SUPPORTED", "This server does not send email"));
  }
  int64_t retry = 0;
  if (!ctx.rate_limiter->allow("3pid_email", ex->peer_address(), ctx.config.rc_registration,
                               now_ms(), &retry)) {
    return ex->reply_error(Error::limit_exceeded(retry));
  }
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto req = parse_token_request(*body);
  if (!req.ok()) return ex->reply_error(req.error());
  {
    auto txn = ctx.store->begin_read();
    if (!accounts::users_with_email(*txn, req->email).empty()) {
      return ex->reply_error(threepid_in_use());
    }
  }
  accounts::ThreepidSession fresh;
  fresh.sid = crypto::random_token(24);
  fresh.client_secret = req->client_secret;
  fresh.email = req->email;
  fresh.token = crypto::random_token(32);
  fresh.send_attempt = req->send_attempt;
  fresh.created_ms = now_ms();
  email::OutgoingMail mail = validation_mail(ctx, fresh);
  write<std::string>(
      *ctx.store,
      [fresh, mail](storage::WriteTxn& txn) mutable -> Result<std::string> {
        auto existing = accounts::find_threepid_session(txn, fresh.client_secret, fresh.email);
        bool expired =
            existing && now_ms() - existing->created_ms > accounts::kThreepidSessionLifetimeMs;
        // The same send_attempt again is a retry of the same request: no second mail.
        if (existing && !expired && existing->send_attempt >= fresh.send_attempt) {
          return existing->sid;
        }
        if (existing) {
          HAVEN_TRY(check(accounts::delete_threepid_session(txn, *existing)));
        }
        HAVEN_TRY(check(accounts::put_threepid_session(txn, fresh)));
        HAVEN_TRY(check(email::queue_mail(txn, mail)));
        return fresh.sid;
      },
      [&ctx, ex](Result<std::string> r) {
        if (!r.ok()) return ex->reply_error(r.error());
        ctx.email->outbox_changed();
        auto d = json::object();
        json::set(d, "sid", *r, d.GetAllocator());
        json::set(d, "submit_url", public_base(ctx) + kSubmitPath.substr(1), d.GetAllocator());
        ex->reply_json(200, d);
      });
}

struct SubmittedToken {
  std::string sid;
  std::string client_secret;
  std::string token;
};

// Confirms the session when the token matches; the errors say what did not.
void confirm_session(ServerContext& ctx, SubmittedToken submitted,
                     std::function<void(Result<bool>)> done) {
  write<bool>(
      *ctx.store,
      [submitted](storage::WriteTxn& txn) -> Result<bool> {
        auto session = accounts::get_threepid_session(txn, submitted.sid);
        if (!session ||
            !crypto::constant_time_equal(session->client_secret, submitted.client_secret)) {
          return Error::with(404, "M_NO_VALID_SESSION", "No validation session with this sid");
        }
        if (now_ms() - session->created_ms > accounts::kThreepidSessionLifetimeMs) {
          return Error::with(400, "M_SESSION_EXPIRED", "This validation session has expired");
        }
        if (!crypto::constant_time_equal(session->token, submitted.token)) {
          return auth_failed("The token does not match");
        }
        if (session->validated_ms == 0) {
          session->validated_ms = now_ms();
          HAVEN_TRY(check(accounts::put_threepid_session(txn, *session)));
        }
        return true;
      },
      std::move(done));
}

// POST /_matrix/client/unstable/add_threepid/email/submit_token {sid, client_secret, token}
void submit_token(ServerContext& ctx, const http::ExchangePtr& ex) {
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  SubmittedToken t;
  for (auto [field, out] : {std::pair{"sid", &t.sid}, std::pair{"client_secret", &t.client_secret},
                            std::pair{"token", &t.token}}) {
    auto value = json::required_string(*body, field);
    if (!value.ok()) return ex->reply_error(value.error());
    *out = std::move(*value);
  }
  confirm_session(ctx, std::move(t), [ex](Result<bool> r) {
    if (!r.ok()) return ex->reply_error(r.error());
    ex->reply_json(200, R"({"success":true})");
  });
}

// GET /_matrix/client/unstable/add_threepid/email/submit_token?sid&client_secret&token: the
// link in the mail, opened in a browser.
void submit_token_link(ServerContext& ctx, const http::ExchangePtr& ex) {
  SubmittedToken t{ex->query("sid").value_or(""), ex->query("client_secret").value_or(""),
                   ex->query("token").value_or("")};
  confirm_session(ctx, std::move(t), [ex](Result<bool> r) {
    if (!r.ok()) {
      return ex->reply_bytes(r.error().status, "text/plain; charset=utf-8",
                             "This link is not valid (any more). Ask for a new one in the app.\n"
                             "Deze link is niet (meer) geldig. Vraag in de app een nieuwe aan.\n");
    }
    ex->reply_bytes(200, "text/plain; charset=utf-8",
                    "Your email address is confirmed. Go back to the app to finish.\n"
                    "Je e-mailadres is bevestigd. Ga terug naar de app om af te ronden.\n");
  });
}

// Makes the address of the confirmed session `sid` the user's (writer thread).
Result<bool> bind_confirmed_email(storage::WriteTxn& txn, const std::string& user_id,
                                  const std::string& sid, const std::string& secret) {
  auto session = accounts::get_threepid_session(txn, sid);
  if (!session || !crypto::constant_time_equal(session->client_secret, secret)) {
    return auth_failed("No validation session with this sid and secret");
  }
  if (session->validated_ms == 0) {
    return auth_failed("The email address has not been confirmed yet");
  }
  if (now_ms() - session->created_ms > accounts::kThreepidSessionLifetimeMs) {
    return auth_failed("This validation session has expired");
  }
  if (in_use_by_other(txn, session->email, user_id)) return threepid_in_use();
  auto user = accounts::get_user(txn, user_id);
  if (!user) return Error::not_found("User not found");
  user->email = session->email;
  user->email_added_ts = now_ms();
  HAVEN_TRY(check(accounts::put_user(txn, *user)));
  HAVEN_TRY(check(accounts::delete_threepid_session(txn, *session)));
  return true;
}

// POST /_matrix/client/v3/account/3pid/add {client_secret, sid, auth}
void add_threepid(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto parsed = parse_body(ctx, *ex);
  if (!parsed.ok()) return ex->reply_error(parsed.error());
  auto body = std::make_shared<json::Document>(std::move(parsed.value()));
  auto secret = json::required_string(*body, "client_secret");
  if (!secret.ok()) return ex->reply_error(secret.error());
  auto sid = json::required_string(*body, "sid");
  if (!sid.ok()) return ex->reply_error(sid.error());
  auto bind = [&ctx, ex, user_id = who.user_id, secret = *secret, sid = *sid] {
    write<bool>(
        *ctx.store,
        [user_id, sid, secret](storage::WriteTxn& txn) {
          return bind_confirmed_email(txn, user_id, sid, secret);
        },
        [&ctx, ex, user_id](Result<bool> r) {
          if (r.ok() && ctx.email) ctx.email->recheck(user_id);
          reply_empty(ex)(std::move(r));
        });
  };
  ctx.uia->run(ctx, ex, *body, {{"m.login.password"}}, who.user_id, std::move(bind));
}

// POST /_matrix/client/v3/account/3pid/delete {medium, address}
void delete_threepid(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto medium = json::required_string(*body, "medium");
  if (!medium.ok()) return ex->reply_error(medium.error());
  auto address = json::required_string(*body, "address");
  if (!address.ok()) return ex->reply_error(address.error());
  if (*medium != "email" && *medium != "msisdn") {
    return ex->reply_error(Error::invalid_param("medium must be email or msisdn"));
  }
  write<bool>(
      *ctx.store,
      [user_id = who.user_id, medium = *medium,
       address = *address](storage::WriteTxn& txn) -> Result<bool> {
        auto user = accounts::get_user(txn, user_id);
        if (!user) return Error::not_found("User not found");
        bool same = medium == "email" && user->email.size() == address.size() &&
                    std::equal(address.begin(), address.end(), user->email.begin(),
                               [](unsigned char a, unsigned char b) {
                                 return std::tolower(a) == std::tolower(b);
                               });
        if (!same) return true;  // not this user's: nothing to remove
        user->email.clear();
        user->email_added_ts = 0;
        HAVEN_TRY(check(accounts::put_user(txn, *user)));
        return true;
      },
      [ex](Result<bool> r) {
        if (!r.ok()) return ex->reply_error(r.error());
        ex->reply_json(200, R"({"id_server_unbind_result":"no-support"})");
      });
}

}  // namespace

void register_threepid_routes(http::Router& r, ServerContext& ctx) {
  add_authed(r, ctx, "GET", v3("/account/3pid"),
             [&ctx](auto& ex, auto& who) { get_threepids(ctx, ex, who); });
  r.add("POST", v3("/account/3pid/email/requestToken"),
        [&ctx](auto& ex) { request_email_token(ctx, ex); });
  add_authed(r, ctx, "POST", v3("/account/3pid/add"),
             [&ctx](auto& ex, auto& who) { add_threepid(ctx, ex, who); });
  add_authed(r, ctx, "POST", v3("/account/3pid/delete"),
             [&ctx](auto& ex, auto& who) { delete_threepid(ctx, ex, who); });
  r.add("POST", kSubmitPath, [&ctx](auto& ex) { submit_token(ctx, ex); });
  r.add("GET", kSubmitPath, [&ctx](auto& ex) { submit_token_link(ctx, ex); });
}

}  // namespace haven::client
