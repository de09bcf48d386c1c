// WellKnownSource over HTTPS (libcurl): GET https://<hostname>/.well-known/matrix/server,
// following https redirects, certificates checked per the TlsPolicy. Blocks; thread-safe.
#pragma once

#include "federation/resolver.h"
#include "federation/tls_policy.h"

namespace haven::federation {

class HttpsWellKnown : public WellKnownSource {
 public:
  explicit HttpsWellKnown(const TlsPolicy& tls) : tls_(tls) {}
  WellKnownAnswer fetch(const std::string& hostname) override;

 private:
  const TlsPolicy& tls_;
};

}  // namespace haven::federation
