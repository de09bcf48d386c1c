// Asking other servers about their users' keys, for the client API's /keys/query and
// /keys/claim: federation/ implements it (federation::RemoteKeyQueries) and main wires it in
// (ServerContext::remote_keys). Loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "homeserver/base/result.h"

namespace haven::e2ee {

class RemoteKeys {
 public:
  virtual ~RemoteKeys() = default;
  // POSTs bodies_by_server[server] to `path` (a federation API path) of each server at once,
  // each with `timeout_ms`; `done` gets every server's answer: the JSON body of a 200, or the
  // error (unreachable, not allowed, another status).
  using Answers = std::map<std::string, Result<std::string>>;
  virtual void post_to_servers(const std::string& path,
                               std::map<std::string, std::string> bodies_by_server,
                               int64_t timeout_ms, std::function<void(Answers)> done) = 0;
};

}  // namespace haven::e2ee
