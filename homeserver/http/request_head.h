// The head of one HTTP/1.x request (request line and header fields) and how its body is framed,
// parsed from the bytes before the blank line. Pure functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "homeserver/base/result.h"

namespace haven::http {

// Longest request head accepted (request line, header fields and the blank line).
constexpr size_t kMaxRequestHeadBytes = 64 * 1024;

struct RequestHead {
  std::string method;
  std::string target;                                        // as received: path and "?query"
  int minor_version = 1;                                     // HTTP/1.x
  std::vector<std::pair<std::string, std::string>> headers;  // names as received, values trimmed

  bool chunked = false;          // Transfer-Encoding: chunked
  uint64_t content_length = 0;   // the body's length when not chunked (0: no body)
  bool keep_alive = true;        // the client may send another request on this connection
  bool expect_continue = false;  // Expect: 100-continue

  // The first field named `name` (compared case-insensitively).
  std::optional<std::string> header(std::string_view name) const;
};

// Where the head in `bytes` ends: the length up to and including the blank line ("\r\n\r\n"),
// or 0 when it has not all arrived yet.
size_t request_head_length(std::string_view bytes);

// Parses a head (the bytes request_head_length counted). Errors carry the HTTP status to answer
// with: 400 for a malformed request or an ambiguous body length, 501 for a transfer coding other
// than chunked, 505 for a version other than HTTP/1.0 and HTTP/1.1.
Result<RequestHead> parse_request_head(std::string_view head);

}  // namespace haven::http
