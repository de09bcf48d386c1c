// Client-Server API: VoIP. TURN credentials in the form coturn's REST API (use-auth-secret)
// checks: username "<expiry unix seconds>:<user_id>", password base64(HMAC-SHA1(secret,
// username)), so the TURN server needs only the shared secret, never a user list.
#include "crypto/base64.h"
#include "crypto/hash.h"
#include "homeserver/client/routes.h"

namespace haven::client {

namespace {

// coturn compares the password text as given, with base64's '=' padding.
std::string padded_base64(std::string_view bytes) {
  std::string out = crypto::base64_encode(bytes);
  while (out.size() % 4 != 0) out += '=';
  return out;
}

// GET /_matrix/client/v3/voip/turnServer
void turn_server(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  const auto& c = ctx.config;
  // Nothing configured, or guests excluded: an empty object, which clients read as "no TURN".
  if (c.turn_uris.empty() || c.turn_shared_secret.empty() ||
      (who.is_guest && !c.turn_allow_guests)) {
    return ex->reply_json(200, "{}");
  }
  const int64_t expiry = now_ms() / 1000 + c.turn_user_lifetime_seconds;
  const std::string username = std::to_string(expiry) + ":" + who.user_id;
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "username", username, a);
  json::set(d, "password", padded_base64(crypto::hmac_sha1(c.turn_shared_secret, username)), a);
  json::Value uris(rapidjson::kArrayType);
  for (const auto& uri : c.turn_uris) uris.PushBack(json::str(uri, a), a);
  json::set(d, "uris", std::move(uris), a);
  json::set(d, "ttl", static_cast<int64_t>(c.turn_user_lifetime_seconds), a);
  ex->reply_json(200, d);
}

}  // namespace

void register_voip_routes(http::Router& r, ServerContext& ctx) {
  add_authed(r, ctx, "GET", v3("/voip/turnServer"),
             [&ctx](auto& ex, auto& who) { turn_server(ctx, ex, who); });
}

}  // namespace haven::client
