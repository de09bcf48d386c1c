// Wakes long-polling requests (/sync) when something they may see has changed: exactly the
// waiters of the users concerned, no polling. Loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>

#include "storage/store.h"

namespace haven {

class Notifier {
 public:
  explicit Notifier(storage::Store& store) : store_(store) {}
  using Wake = std::function<void()>;
  // Registers a waiter for `user_id`; returns an id for cancel(). The callback runs at most
  // once, after which the waiter is gone.
  uint64_t wait(const std::string& user_id, Wake wake);
  void cancel(uint64_t id);
  // Something changed for these users.
  void notify_users(const std::set<std::string>& user_ids);
  void notify_user(const std::string& user_id);
  // A room event was persisted: wakes every member (joined, invited, knocking, and the
  // target of a membership change, passed as `extra_user`).
  void notify_room(const std::string& room_id, const std::string& extra_user = {});
  size_t waiter_count() const { return waiters_.size(); }

 private:
  storage::Store& store_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, std::pair<std::string, Wake>> waiters_;
  std::unordered_multimap<std::string, uint64_t> by_user_;
};

}  // namespace haven
