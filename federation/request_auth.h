// Authentication of inbound federation requests (X-Matrix): the Authorization header, the
// destination, the origin against allowed_servers, and the signature against the origin's
// key from the KeyRing. Loop thread only.
#pragma once

#include <functional>
#include <string>

#include "federation/allow_list.h"
#include "federation/key_ring.h"
#include "homeserver/http/exchange.h"
#include "homeserver/http/router.h"

namespace haven::federation {

class RequestVerifier {
 public:
  RequestVerifier(std::string own_name, const ServerAllowList& allowed, KeyRing& keys,
                  int max_json_depth);

  using Done = std::function<void(Result<std::string>)>;
  // `done` gets the origin server's name once the request is proven to come from it, or the
  // error to answer: 401 M_UNAUTHORIZED (no or malformed header, another destination, a key
  // that cannot be had, a bad signature), 403 M_FORBIDDEN (origin not allowed), 400
  // M_NOT_JSON (a body that is not JSON).
  void authenticate(const http::ExchangePtr& ex, Done done);

  using AuthenticatedHandler =
      std::function<void(const http::ExchangePtr& ex, const std::string& origin)>;
  // Registers a route whose handler runs only for authenticated requests, with the origin.
  void add_route(http::Router& router, std::string method, std::string path_template,
                 AuthenticatedHandler handler);

  // Runs for every request proven to come from a server (e.g. the outbox retries a server
  // it was backing off from as soon as that server is heard from). Set once at start-up.
  void on_heard_from(std::function<void(const std::string& origin)> fn) {
    heard_from_ = std::move(fn);
  }

 private:
  std::string own_name_;
  const ServerAllowList& allowed_;
  KeyRing& keys_;
  int max_json_depth_;
  std::function<void(const std::string&)> heard_from_;
};

}  // namespace haven::federation
