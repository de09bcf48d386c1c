// Whom this server federates with (federation.allowed_servers): the one place that decides,
// for inbound requests and outbound ones alike. Immutable after construction; any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace haven::federation {

class ServerAllowList {
 public:
  // `patterns`: server names, "*.example.org" or "*" (see conf::Federation). Empty: none.
  explicit ServerAllowList(std::vector<std::string> patterns);

  // True when `server_name` may federate with this server. Host names compare
  // case-insensitively; "*.example.org" matches names whose host ends in ".example.org",
  // with any port.
  bool allows(std::string_view server_name) const;

 private:
  bool everyone_ = false;
  std::vector<std::string> exact_;     // lower-cased server names
  std::vector<std::string> suffixes_;  // lower-cased ".example.org"
};

}  // namespace haven::federation
