#include "homeserver/sync/notifier.h"

#include <vector>

#include "homeserver/rooms/event_store.h"

namespace haven {

uint64_t Notifier::wait(const std::string& user_id, Wake wake) {
  uint64_t id = next_id_++;
  waiters_.emplace(id, std::make_pair(user_id, std::move(wake)));
  by_user_.emplace(user_id, id);
  return id;
}

void Notifier::cancel(uint64_t id) {
  auto it = waiters_.find(id);
  if (it == waiters_.end()) return;
  auto [lo, hi] = by_user_.equal_range(it->second.first);
  for (auto u = lo; u != hi; ++u) {
    if (u->second == id) {
      by_user_.erase(u);
      break;
    }
  }
  waiters_.erase(it);
}

void Notifier::notify_user(const std::string& user_id) {
  std::vector<Wake> to_wake;
  auto [lo, hi] = by_user_.equal_range(user_id);
  for (auto it = lo; it != hi; ++it) {
    auto w = waiters_.find(it->second);
    if (w == waiters_.end()) continue;
    to_wake.push_back(std::move(w->second.second));
    waiters_.erase(w);
  }
  by_user_.erase(lo, hi);
  // Wake after the bookkeeping: a woken request may register again right away.
  for (auto& wake : to_wake) wake();
}

void Notifier::notify_users(const std::set<std::string>& user_ids) {
  for (const auto& u : user_ids) notify_user(u);
}

void Notifier::notify_room(const std::string& room_id, const std::string& extra_user) {
  if (waiters_.empty()) return;
  std::set<std::string> users;
  {
    auto txn = store_.begin_read();
    for (auto& [user, membership] : rooms::members_of_room(*txn, room_id)) {
      if (membership != "leave" && membership != "ban") users.insert(user);
    }
  }
  if (!extra_user.empty()) users.insert(extra_user);
  notify_users(users);
}

}  // namespace haven
