// A bounded LRU of parsed events by id, shared by every thread (one mutex), so hot events —
// create, power levels, members, recent messages — are not parsed from JSON on every send and
// sync. Callers validate a hit against their own transaction (see get_event), so the cache
// never shows an event their snapshot does not hold. Any thread.
#pragma once

#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "homeserver/rooms/event.h"

namespace haven::rooms {

struct CachedEvent {
  EventPtr event;
  uint64_t pos = 0;
  uint64_t state_group = 0;
  bool redacted = false;
};

class EventCache {
 public:
  explicit EventCache(size_t capacity) : capacity_(capacity) {}
  std::optional<CachedEvent> get(std::string_view event_id);
  void put(const std::string& event_id, CachedEvent entry);
  void erase(std::string_view event_id);  // no-op if absent

  // The process-wide cache used by the event store.
  static EventCache& shared();

 private:
  using Lru = std::list<std::string>;
  std::mutex mu_;
  size_t capacity_;
  Lru lru_;  // most recently used first
  std::unordered_map<std::string_view, std::pair<CachedEvent, Lru::iterator>> entries_;
};

}  // namespace haven::rooms
