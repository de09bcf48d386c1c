// Delivery of push notifications to push gateways (/_matrix/push/v1/notify, Sygnal-compatible)
// on a thread of its own, so a slow gateway never holds up the loop or the workers: each
// notification is POSTed with a timeout and retried with exponential backoff (1 s doubling,
// at most kMaxAttempts tries, then dropped). Pushkeys the gateway rejects are reported back on
// the loop. send() and the destructor are for the loop thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "homeserver/base/loop.h"

namespace haven::push {

struct Notification {
  std::string url;   // the pusher's data.url
  std::string body;  // {"notification": {...}}
  std::string app_id;
  std::string pushkey;
  int attempts = 0;
  std::chrono::steady_clock::time_point due;
};

class PushSender {
 public:
  using Rejected = std::function<void(const std::string& app_id, const std::string& pushkey)>;
  static constexpr int kMaxAttempts = 6;

  PushSender(Loop& loop, Rejected on_rejected);
  ~PushSender();  // stops the thread; undelivered notifications are dropped
  PushSender(const PushSender&) = delete;
  PushSender& operator=(const PushSender&) = delete;

  void send(Notification n);

 private:
  void run();
  // One POST: true when the gateway answered 2xx; `rejected` gets the keys it refused.
  bool post(const Notification& n, std::vector<std::string>* rejected);

  struct Later {
    bool operator()(const Notification& a, const Notification& b) const { return a.due > b.due; }
  };

  Loop& loop_;
  Rejected on_rejected_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::priority_queue<Notification, std::vector<Notification>, Later> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace haven::push
