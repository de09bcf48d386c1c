// A long-polling request (/sync, sliding sync): tries to answer now; when there is nothing
// new, waits on the notifier for the user and tries again each time it is woken, until the
// deadline, when it tries one last time. Stops quietly when the client goes away.
// Loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "homeserver/base/loop.h"
#include "homeserver/http/exchange.h"
#include "homeserver/server_context.h"

namespace haven::client {

class LongPoll : public std::enable_shared_from_this<LongPoll> {
 public:
  // Returns true when it has answered the request (or given up on it); false to keep waiting.
  // `final_attempt`: the deadline has passed, so it must answer.
  using Attempt = std::function<bool(bool final_attempt)>;

  // Tries once right away, then waits for `user_id`'s notifications until `deadline_ms`.
  static void start(ServerContext& ctx, http::ExchangePtr ex, std::string user_id,
                    int64_t deadline_ms, Attempt attempt);

  LongPoll(ServerContext& ctx, http::ExchangePtr ex, std::string user_id, int64_t deadline_ms,
           Attempt attempt);

 private:
  void run(bool final_attempt);
  void wait();
  void cancel_waiter();
  void finish();

  ServerContext& ctx_;
  http::ExchangePtr ex_;
  std::string user_id_;
  int64_t deadline_ms_;
  Attempt attempt_;
  uint64_t waiter_ = 0;
  std::unique_ptr<Loop::Timer> timer_;
  // Set once answered (or given up): a wake-up or timer still on its way does nothing.
  bool finished_ = false;
};

}  // namespace haven::client
