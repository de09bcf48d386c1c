#include "federation/request_auth.h"

#include <memory>

#include "federation/resolver.h"
#include "federation/x_matrix.h"
#include "homeserver/base/json.h"

namespace haven::federation {
namespace {

Error unauthorized(std::string message) {
  return Error::with(401, "M_UNAUTHORIZED", std::move(message));
}

}  // namespace

RequestVerifier::RequestVerifier(std::string own_name, const ServerAllowList& allowed,
                                 KeyRing& keys, int max_json_depth)
    : own_name_(std::move(own_name)),
      allowed_(allowed),
      keys_(keys),
      max_json_depth_(max_json_depth) {}

void RequestVerifier::authenticate(const http::ExchangePtr& ex, Done done) {
  auto header = ex->header("Authorization");
  if (!header) return done(unauthorized("Missing X-Matrix Authorization header"));
  auto auth = parse_x_matrix(*header);
  if (!auth) return done(unauthorized("Malformed X-Matrix Authorization header"));
  if (!split_server_name(auth->origin)) return done(unauthorized("origin is not a server name"));
  if (!auth->destination.empty() && auth->destination != own_name_) {
    return done(
        unauthorized("The request is addressed to " + auth->destination + ", not to this server"));
  }
  if (!allowed_.allows(auth->origin)) {
    return done(Error::forbidden("This server does not federate with " + auth->origin));
  }
  auto content = std::make_shared<json::Document>();
  if (!ex->body().empty()) {
    auto parsed = json::parse_object(ex->body(), max_json_depth_);
    if (!parsed.ok()) return done(std::move(parsed).error());
    *content = std::move(*parsed);
  }
  const std::string origin = auth->origin, key_id = auth->key;
  keys_.get_key(
      origin, key_id, now_ms(), KeyUse::kRequest,
      [this, ex, auth = std::move(*auth), content, done = std::move(done)](Result<KnownKey> key) {
        if (!key.ok()) return done(key.error());
        const json::Value* signed_content = content->IsObject() ? content.get() : nullptr;
        if (!verify_request(auth, key->public_key, own_name_, ex->method(), ex->target(),
                            signed_content)) {
          return done(unauthorized("Invalid X-Matrix signature from " + auth.origin));
        }
        if (heard_from_) heard_from_(auth.origin);
        done(auth.origin);
      });
}

void RequestVerifier::add_route(http::Router& router, std::string method, std::string path_template,
                                AuthenticatedHandler handler) {
  router.add(std::move(method), std::move(path_template),
             [this, handler = std::move(handler)](const http::ExchangePtr& ex) {
               authenticate(ex, [ex, handler](Result<std::string> origin) {
                 if (!origin.ok()) return ex->reply_error(origin.error());
                 ex->user_id = *origin;  // the request log names the origin server
                 handler(ex, *origin);
               });
             });
}

}  // namespace haven::federation
