// Delivery of one application service's outbox (queue.h) as transactions, PUT
// /_matrix/app/v1/transactions/{txnId}, on a thread of its own so a slow or absent service
// never holds up the loop. Strictly in order: the next transaction starts only once the
// service has accepted the previous one. A failed transaction is retried, unchanged and under
// the same id, with exponential backoff (1 s doubling, at most kMaxBackoff); items are deleted
// only after the service's 2xx, so a service that is down, or a restart, loses nothing.
// wake() and reachable() are thread-safe; construct and destroy on the main/loop thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "appservices/queue.h"
#include "appservices/registry.h"
#include "storage/store.h"

namespace haven::appservice {

class Sender {
 public:
  static constexpr size_t kMaxItemsPerTransaction = 100;
  static constexpr std::chrono::seconds kMaxBackoff{60};
  static constexpr long kTimeoutSeconds = 30;

  Sender(storage::Store& store, const AppService& service);
  ~Sender();  // stop()s
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  // New items were queued.
  void wake();
  // The service proved reachable (a ping went through): retry now instead of after the backoff.
  void reachable();
  // Ends a request under way and the thread; what was not delivered stays queued.
  void stop();

  // The transaction body for these items (events, ephemeral, to-device), plus `extra_members`
  // (JSON object members without braces, e.g. MSC3202's key counts).
  static std::string transaction_body(const std::vector<QueuedItem>& items,
                                      const std::string& extra_members = "");

 private:
  enum class Step { kIdle, kDelivered, kFailed };
  void run();
  Step step();

  storage::Store& store_;
  const AppService& service_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = true;  // look at the outbox (it may hold items from before a restart)
  bool retry_now_ = false;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace haven::appservice
