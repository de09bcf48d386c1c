#include "homeserver/rooms/event_cache.h"

namespace haven::rooms {

namespace {
constexpr size_t kSharedCapacity = 8192;
}

std::optional<CachedEvent> EventCache::get(std::string_view event_id) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(event_id);
  if (it == entries_.end()) return std::nullopt;
  lru_.splice(lru_.begin(), lru_, it->second.second);
  return it->second.first;
}

void EventCache::put(const std::string& event_id, CachedEvent entry) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(event_id);
  if (it != entries_.end()) {
    it->second.first = std::move(entry);
    lru_.splice(lru_.begin(), lru_, it->second.second);
    return;
  }
  lru_.push_front(event_id);
  // The map's key views the string owned by the list node, which never moves.
  entries_.emplace(std::string_view(lru_.front()), std::make_pair(std::move(entry), lru_.begin()));
  if (entries_.size() > capacity_) {
    entries_.erase(std::string_view(lru_.back()));
    lru_.pop_back();
  }
}

void EventCache::erase(std::string_view event_id) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(event_id);
  if (it == entries_.end()) return;
  auto node = it->second.second;
  entries_.erase(it);
  lru_.erase(node);
}

EventCache& EventCache::shared() {
  static EventCache cache(kSharedCapacity);
  return cache;
}

}  // namespace haven::rooms
