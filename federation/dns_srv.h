// DnsSource over the system resolver (glibc res_query on resolv.conf): SRV lookups for
// server discovery. Blocks on the network; thread-safe (res_query uses per-thread state).
#pragma once

#include "federation/resolver.h"

namespace haven::federation {

class SystemDns : public DnsSource {
 public:
  std::vector<SrvRecord> lookup_srv(const std::string& name) override;
};

}  // namespace haven::federation
