// Calls from haven-care to haven's Client-Server and admin APIs over HTTP (libcurl, blocking):
// as the application service (as_token, optionally masquerading as one of its users) or with a
// user's own access token. For haven-care's worker thread, never the event loop.
#pragma once

#include <optional>
#include <string>

#include "homeserver/base/json.h"
#include "homeserver/base/result.h"

namespace haven::care {

struct HavenAnswer {
  long status = 0;  // 0: haven did not answer
  json::Document body;
  bool ok() const { return status >= 200 && status < 300; }
  // The answer as an Error for haven-care's own client (haven's errcode and message kept).
  Error error() const;
};

class HavenApi {
 public:
  HavenApi(std::string base_url, std::string as_token)
      : base_url_(std::move(base_url)), as_token_(std::move(as_token)) {}

  // `path` starts with "/_matrix/..." or "/_haven/..."; path segments already encoded.
  HavenAnswer as_service(const std::string& method, const std::string& path,
                         const std::string& body = "",
                         const std::optional<std::string>& as_user = std::nullopt) const;
  HavenAnswer as_user_token(const std::string& token, const std::string& method,
                            const std::string& path, const std::string& body = "") const;

  // The user an access token belongs to (GET /account/whoami), or the error to pass on.
  Result<std::string> whoami(const std::string& token) const;

 private:
  HavenAnswer call(const std::string& method, const std::string& url, const std::string& token,
                   const std::string& body) const;
  std::string base_url_;
  std::string as_token_;
};

// Percent-encodes one path segment (room and user ids).
std::string encode_segment(std::string_view s);

}  // namespace haven::care
