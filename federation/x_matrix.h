// The X-Matrix request authentication of the Server-Server API: the Authorization header's
// grammar (RFC 9110 auth-params), and the signed JSON of method, uri, origin, destination and
// content. Pure functions; any thread.
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>

#include "crypto/ed25519.h"

namespace haven::federation {

// The parameters of one `Authorization: X-Matrix ...` header. `destination` is empty when the
// sender left it out (older servers); `sig` is unpadded base64.
struct XMatrixAuth {
  std::string origin;
  std::string destination;
  std::string key;  // key id, e.g. "ed25519:a_bcd"
  std::string sig;

  friend bool operator==(const XMatrixAuth&, const XMatrixAuth&) = default;
};

// Parses an Authorization header value. nullopt when the scheme is not X-Matrix, the
// parameter list breaks the grammar, a parameter appears twice, or origin, key or sig is
// missing. Names are case-insensitive, values may be tokens or quoted strings (with
// backslash escapes), and colons are accepted unquoted for older servers.
std::optional<XMatrixAuth> parse_x_matrix(std::string_view header);

// The header value as the spec asks senders to write it: one space after the scheme,
// lower-case names, quoted values, no spaces around commas.
std::string format_x_matrix(const XMatrixAuth& auth);

// What a request is signed over, as canonical JSON: {method, uri, origin, destination,
// content (when given)}. `uri` is the request target from "/_matrix/..." including the query.
// nullopt when `content` cannot be canonicalised.
std::optional<std::string> request_signing_text(std::string_view method, std::string_view uri,
                                                std::string_view origin,
                                                std::string_view destination,
                                                const rapidjson::Value* content);

// The Authorization header value for a request from `origin` signed with `key`, or nullopt
// when `content` cannot be canonicalised.
std::optional<std::string> sign_request(const crypto::SigningKey& key, std::string_view origin,
                                        std::string_view destination, std::string_view method,
                                        std::string_view uri, const rapidjson::Value* content);

// True when `auth.sig` is a valid signature by `public_key` (32 raw bytes) of the request.
// The destination signed over is `destination` (the receiving server's name), whatever the
// header says.
bool verify_request(const XMatrixAuth& auth, std::string_view public_key,
                    std::string_view destination, std::string_view method, std::string_view uri,
                    const rapidjson::Value* content);

}  // namespace haven::federation
