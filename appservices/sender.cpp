#include "appservices/sender.h"

#include <spdlog/spdlog.h>

#include "appservices/device_lists.h"
#include "appservices/http_call.h"
#include "appservices/key_counts.h"

namespace haven::appservice {

Sender::Sender(storage::Store& store, const AppService& service)
    : store_(store), service_(service) {
  thread_ = std::thread([this] { run(); });
}

Sender::~Sender() { stop(); }

void Sender::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Sender::wake() {
  {
    std::lock_guard lock(mu_);
    pending_ = true;
  }
  cv_.notify_all();
}

void Sender::reachable() {
  {
    std::lock_guard lock(mu_);
    retry_now_ = true;
  }
  cv_.notify_all();
}

void Sender::run() {
  std::chrono::seconds backoff{0};
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (!pending_) {
      cv_.wait(lock, [this] { return pending_ || stopping_.load(); });
      continue;
    }
    pending_ = false;
    lock.unlock();
    Step step_result = step();
    lock.lock();
    if (step_result == Step::kDelivered) {
      backoff = std::chrono::seconds(0);
      pending_ = true;  // there may be more
    } else if (step_result == Step::kFailed) {
      backoff = backoff.count() == 0 ? std::chrono::seconds(1) : std::min(backoff * 2, kMaxBackoff);
      retry_now_ = false;
      cv_.wait_for(lock, backoff, [this] { return retry_now_ || stopping_.load(); });
      if (retry_now_) backoff = std::chrono::seconds(0);
      retry_now_ = false;
      pending_ = true;
    }
  }
}

Sender::Step Sender::step() {
  const std::string& id = service_.id();
  std::optional<InFlight> flight;
  std::vector<QueuedItem> items;
  {
    auto txn = store_.begin_read();
    if (!txn) return Step::kIdle;  // the store is closing
    flight = in_flight(*txn, id);
    items = flight ? peek(*txn, id, kMaxItemsPerTransaction * 2, flight->last_seq)
                   : peek(*txn, id, kMaxItemsPerTransaction);
  }
  if (!flight) {
    if (items.empty()) return Step::kIdle;
    InFlight started;
    auto s = store_.run([&](storage::WriteTxn& w) {
      storage::Status status;
      started = begin_in_flight(w, id, items.back().seq, &status);
      return status;
    });
    if (!s.ok()) return Step::kIdle;
    flight = started;
  }
  // Key counts are read at each attempt: unlike the events, they may change between retries.
  std::string key_counts;
  if (service_.registration().msc3202) {
    if (auto txn = store_.begin_read()) key_counts = msc3202_key_counts(*txn, service_, items);
  }
  const std::string url = service_.registration().url + "/_matrix/app/v1/transactions/" +
                          std::to_string(flight->txn_id);
  HttpAnswer answer = call_service("PUT", url, service_.registration().hs_token,
                                   transaction_body(items, key_counts), kTimeoutSeconds,
                                   &stopping_);
  if (answer.outcome == HttpAnswer::Outcome::kAborted) return Step::kIdle;
  if (!answer.ok()) {
    spdlog::warn("appservice {}: transaction {} ({} items) not accepted: {}", id, flight->txn_id,
                 items.size(),
                 answer.outcome == HttpAnswer::Outcome::kAnswered
                     ? "HTTP " + std::to_string(answer.status)
                     : answer.detail);
    return Step::kFailed;
  }
  uint64_t last = flight->last_seq;
  auto s = store_.run([&](storage::WriteTxn& w) {
    if (auto r = remove_through(w, id, last); !r.ok()) return r;
    return end_in_flight(w, id);
  });
  if (!s.ok()) return Step::kIdle;
  spdlog::debug("appservice {}: transaction {} delivered ({} items)", id, flight->txn_id,
                items.size());
  return Step::kDelivered;
}

std::string Sender::transaction_body(const std::vector<QueuedItem>& items,
                                     const std::string& extra_members) {
  std::string events, ephemeral, to_device;
  for (const QueuedItem& item : items) {
    if (item.kind == ItemKind::kDeviceLists) continue;  // merged into one member below
    if (item.json.empty()) continue;                    // its room was purged before it was sent
    std::string* list = item.kind == ItemKind::kEvent       ? &events
                        : item.kind == ItemKind::kEphemeral ? &ephemeral
                                                            : &to_device;
    if (!list->empty()) *list += ',';
    *list += item.json;
  }
  std::string body = "{\"events\":[" + events + "]";
  if (!ephemeral.empty()) {
    body += ",\"ephemeral\":[" + ephemeral + "]";
    body += ",\"de.sorunome.msc2409.ephemeral\":[" + ephemeral + "]";
  }
  if (!to_device.empty()) {
    body += ",\"de.sorunome.msc2409.to_device\":[" + to_device + "]";
  }
  if (std::string lists = merge_device_lists(items); !lists.empty()) body += "," + lists;
  if (!extra_members.empty()) body += "," + extra_members;
  return body + "}";
}

}  // namespace haven::appservice
