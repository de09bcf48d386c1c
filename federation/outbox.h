// The federation outbox: delivers each destination's queue (outbox_queue.h) as transactions,
// PUT /_matrix/federation/v1/send/{txnId}, one transaction in flight per destination, in queue
// order. A failed transaction is retried unchanged, under the same id, after an exponential
// backoff on the server's clock (now_ms, Loop::at: the test clock moves it); items leave the
// queue only on the destination's 200, so neither side's restart loses anything (queued
// destinations are resumed at start-up by wake()). Destinations not in allowed_servers get
// nothing: their items are never queued, and a queue left from an older config is dropped.
// Loop thread only, except the queue_* functions (storage writer thread, inside a job).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "federation/allow_list.h"
#include "federation/client.h"
#include "federation/outbox_queue.h"
#include "homeserver/base/loop.h"
#include "homeserver/rooms/outbound.h"
#include "storage/store.h"

namespace haven::federation {

class Outbox : public rooms::Outbound {
 public:
  // How a transaction reaches its destination: FederationClient::send in the server, a
  // recording function in unit tests. `done` runs on the loop.
  using Transport = std::function<void(OutboundRequest, FederationClient::Done)>;

  static constexpr int64_t kFirstBackoffMs = 2'000;
  static constexpr int64_t kMaxBackoffMs = 10 * 60 * 1000;
  // The wait after `failures` (>= 1) failed attempts in a row: 2 s doubling, at most 10 min.
  static int64_t backoff_ms(int failures);

  Outbox(Loop& loop, storage::Store& store, std::string origin, const ServerAllowList& allowed,
         Transport transport);
  ~Outbox() override;
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // rooms::Outbound
  storage::Status queue_event(storage::WriteTxn& txn, const rooms::Event& event,
                              const std::vector<std::string>& extra = {}) const override;
  storage::Status queue_edu(storage::WriteTxn& txn, std::string_view destination,
                            std::string_view type, std::string_view content_json) const override;
  void wake() override;
  void send_edu(std::vector<std::string> destinations, std::string type,
                std::string content_json) override;
  void local_device_list_changed(const std::string& user_id) override;

  // Queues and delivers an event already stored (e.g. a join another server asked this one to
  // sign and send): to the servers in its room, and `extra`.
  void send_pdu(rooms::EventPtr event, std::vector<std::string> extra = {});
  // `server` was heard from (it sent us a request): a destination waiting out a backoff is
  // retried now.
  void server_up(const std::string& server);

  // For tests: whether a transaction to `destination` is under way or waiting for a retry, and
  // the failures in a row so far.
  bool busy(const std::string& destination) const;
  int failures(const std::string& destination) const;

 private:
  struct Destination {
    bool busy = false;  // a transaction is being built, sent or completed
    int failures = 0;
    std::unique_ptr<Loop::Timer> retry;  // set while waiting out a backoff
  };
  bool allowed(std::string_view destination) const;
  void start(const std::string& destination);
  void send(const std::string& destination, const OutTransaction& transaction);
  void answered(const std::string& destination, const Result<OutboundResponse>& answer);
  void completed(const std::string& destination);
  void failed(const std::string& destination);
  void drop(const std::string& destination);
  // The transaction's body from the queue; "" when the store cannot be read.
  std::string transaction_body(const std::string& destination, const OutTransaction& t);

  Loop& loop_;
  storage::Store& store_;
  std::string origin_;
  const ServerAllowList& allowed_;
  Transport transport_;
  std::map<std::string, Destination> destinations_;
  // Callbacks that outlive the outbox (store completions, answers) check it first.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace haven::federation
