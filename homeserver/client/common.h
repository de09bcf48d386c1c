// Shared plumbing of the Client-Server API handlers: authenticating the access token, parsing
// bounded JSON bodies, registering routes that need a user. Loop thread only.
#pragma once

#include <functional>
#include <string>

#include "homeserver/base/json.h"
#include "homeserver/base/result.h"
#include "homeserver/http/router.h"
#include "homeserver/rooms/room_service.h"
#include "homeserver/server_context.h"

namespace haven::appservice {
class AppService;
}

namespace haven::client {

struct Requester {
  std::string user_id;
  std::string device_id;
  bool admin = false;
  bool is_guest = false;
  // The care rules that decide what this user may see of others (nullptr when they are off).
  const policy::CarePolicy* care = nullptr;
  // Set when the request came with an application service's as_token (user_id then is the
  // service's sender or a user it masquerades as).
  const appservice::AppService* appservice = nullptr;
  // False for an application service's own user, and its users when it is not rate_limited.
  bool rate_limited = true;
  // A care guest's one conversation (their token reaches nothing else); empty for everyone else.
  std::string guest_room = {};
};

// The access token from "Authorization: Bearer" or the access_token query parameter.
std::optional<std::string> access_token_of(const http::Exchange& ex);

// Looks the token up: M_MISSING_TOKEN, M_UNKNOWN_TOKEN (also for deactivated users and
// expired tokens; soft_logout false). An application service's as_token acts as its sender,
// or as the user named by the user_id query parameter (M_FORBIDDEN outside its namespaces or
// for a user it has not registered), on the device named by device_id (M_UNKNOWN_DEVICE).
Result<Requester> authenticate(ServerContext& ctx, http::Exchange& ex);

// The request body as a JSON object, bounded by the configured size and depth.
Result<json::Document> parse_body(ServerContext& ctx, const http::Exchange& ex);

// The application service whose as_token this is, or nullptr.
const appservice::AppService* appservice_of_token(ServerContext& ctx, std::string_view token);

using AuthedHandler = std::function<void(const http::ExchangePtr&, const Requester&)>;

// Registers a handler that runs only for an authenticated user.
void add_authed(http::Router& router, ServerContext& ctx, const std::string& method,
                const std::string& path, AuthedHandler handler);

// Registers a handler that runs only for an authenticated server admin (M_FORBIDDEN else).
void add_admin(http::Router& router, ServerContext& ctx, const std::string& method,
               const std::string& path, AuthedHandler handler);

// Registers the same handler under /r0/ and /v3/ of the client API (r0 for old clients).
std::string v3(const std::string& rest);  // "/_matrix/client/v3" + rest

// A done-callback for write<bool>: answers {} or the error.
std::function<void(Result<bool>)> reply_empty(const http::ExchangePtr& ex);

// This server as the room core sees it when a local user sends an event: its name, its key and
// the care rules (when on).
rooms::LocalServer local_server(const ServerContext& ctx);

// Answers with the error or runs `ok` with the value.
template <typename T, typename F>
void reply_or(const http::ExchangePtr& ex, Result<T>& r, F&& ok) {
  if (!r.ok()) {
    ex->reply_error(r.error());
  } else {
    ok(r.value());
  }
}

}  // namespace haven::client
