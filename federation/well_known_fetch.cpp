#include "federation/well_known_fetch.h"

#include "federation/curl_easy.h"

namespace haven::federation {

namespace {
constexpr long kWellKnownTimeoutSeconds = 10;
constexpr size_t kMaxWellKnownBytes = 50 * 1024;
}  // namespace

WellKnownAnswer HttpsWellKnown::fetch(const std::string& hostname) {
  detail::CurlRequest request;
  request.url = "https://" + hostname + "/.well-known/matrix/server";
  request.verify_tls = tls_.verify(hostname);
  request.follow_redirects = true;
  request.timeout_s = kWellKnownTimeoutSeconds;
  request.max_response_bytes = kMaxWellKnownBytes;
  detail::CurlResponse response = detail::curl_perform(request);
  return WellKnownAnswer{response.status, std::move(response.body),
                         std::move(response.cache_control)};
}

}  // namespace haven::federation
