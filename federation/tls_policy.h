// Which remote servers' TLS certificates are checked (federation.verify_certificates and
// federation.insecure_test_servers). Immutable after construction; any thread.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "conf/config.h"

namespace haven::federation {

class TlsPolicy {
 public:
  TlsPolicy() = default;  // every certificate is checked
  explicit TlsPolicy(const conf::Federation& config);
  // False only for a server named in insecure_test_servers while verify_certificates is off.
  bool verify(std::string_view server_name) const;

 private:
  std::set<std::string, std::less<>> unchecked_;
};

}  // namespace haven::federation
