#include "federation/tls_policy.h"

namespace haven::federation {

TlsPolicy::TlsPolicy(const conf::Federation& config) {
  // The config loader refuses verify_certificates: false without a list, so turning it off
  // never means "trust everyone".
  if (!config.verify_certificates) {
    unchecked_.insert(config.insecure_test_servers.begin(), config.insecure_test_servers.end());
  }
}

bool TlsPolicy::verify(std::string_view server_name) const {
  return !unchecked_.contains(server_name);
}

}  // namespace haven::federation
