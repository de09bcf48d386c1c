// The federation client: requests to other servers over HTTPS, signed with X-Matrix, after
// server discovery (Resolver) and the allowed_servers check (a server not allowed is never
// contacted: M_FORBIDDEN). Each request runs on one of the client's own threads, which block
// on DNS and HTTPS; answers come back on the loop.
// send() and the destructor: loop thread. perform(): any thread but the loop (it blocks).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "crypto/ed25519.h"
#include "federation/allow_list.h"
#include "federation/resolver.h"
#include "federation/tls_policy.h"
#include "homeserver/base/loop.h"
#include "homeserver/base/result.h"

namespace haven::federation {

struct OutboundRequest {
  std::string destination;  // the server name, as in user and room ids
  std::string method = "GET";
  std::string target;                    // "/_matrix/...", with "?query" when there is one
  std::optional<std::string> json_body;  // a JSON object's text; required for POST and PUT
  bool sign = true;                      // add the X-Matrix Authorization header
  size_t max_response_bytes = 8 << 20;
  long timeout_s = 30;
};

// An HTTP answer, whatever its status. Transport failures are Errors instead.
struct OutboundResponse {
  int status = 0;
  std::string body;
};

class FederationClient {
 public:
  // `loop` may be nullptr for a client used only through perform() (the CLI).
  FederationClient(Loop* loop, Resolver& resolver, const crypto::SigningKey& key,
                   std::string origin, TlsPolicy tls, const ServerAllowList& allowed,
                   int threads = 4);
  ~FederationClient();  // stops running requests; queued ones are dropped unanswered
  FederationClient(const FederationClient&) = delete;
  FederationClient& operator=(const FederationClient&) = delete;

  using Done = std::function<void(Result<OutboundResponse>)>;
  // Queues `request`; `done` runs on the loop with the answer, M_FORBIDDEN when the
  // destination is not an allowed server, or 502 M_UNKNOWN when it cannot be reached.
  void send(OutboundRequest request, Done done);
  // The same, blocking the calling thread.
  Result<OutboundResponse> perform(const OutboundRequest& request);
  // Runs `job` on one of the client's threads, where it may call perform() (e.g. a key fetch
  // that asks several servers in turn). The job posts its own result to the loop. False (and
  // `job` dropped) when too many jobs are queued already.
  [[nodiscard]] bool run_blocking(std::function<void()> job);

  const std::string& origin() const { return origin_; }

 private:
  void run();
  Loop* loop_;
  Resolver& resolver_;
  const crypto::SigningKey& key_;
  std::string origin_;
  TlsPolicy tls_;
  const ServerAllowList& allowed_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::atomic<bool> cancel_{false};  // set on destruction: running transfers stop
  std::vector<std::thread> threads_;
};

}  // namespace haven::federation
