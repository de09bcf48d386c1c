#include "homeserver/sync/sliding_connections.h"

#include <algorithm>
#include <charconv>
#include <vector>

namespace haven::sync {

namespace {
constexpr int64_t kSweepEveryMs = 60'000;
}

std::string sliding_pos(const SyncToken& streams, uint64_t state_id) {
  return streams.to_string() + "~" + std::to_string(state_id);
}

std::optional<uint64_t> sliding_pos_state_id(std::string_view pos) {
  auto tilde = pos.rfind('~');
  if (tilde == std::string_view::npos) return std::nullopt;
  std::string_view id = pos.substr(tilde + 1);
  uint64_t n = 0;
  auto [p, ec] = std::from_chars(id.data(), id.data() + id.size(), n);
  if (id.empty() || ec != std::errc() || p != id.data() + id.size() || n == 0) {
    return std::nullopt;
  }
  return n;
}

uint64_t SlidingConnections::begin_request(const ConnectionKey& key, int64_t now_ms) {
  expire_idle(now_ms);
  auto it = connections_.find(key);
  if (it == connections_.end()) {
    make_room_for(key);
    it = connections_.emplace(key, Connection{}).first;
  }
  it->second.last_used_ms = now_ms;
  it->second.request = next_request_++;
  return it->second.request;
}

bool SlidingConnections::is_current(const ConnectionKey& key, uint64_t request) const {
  auto it = connections_.find(key);
  return it != connections_.end() && it->second.request == request;
}

ConnectionStatePtr SlidingConnections::find(const ConnectionKey& key, uint64_t state_id) const {
  auto it = connections_.find(key);
  if (it == connections_.end() || state_id == 0) return nullptr;
  if (state_id == it->second.latest_id) return it->second.latest;
  if (state_id == it->second.previous_id) return it->second.previous;
  return nullptr;
}

uint64_t SlidingConnections::commit(const ConnectionKey& key, uint64_t base_id,
                                    ConnectionStatePtr state, int64_t now_ms) {
  auto it = connections_.find(key);
  if (it == connections_.end()) return 0;
  Connection& c = it->second;
  ConnectionStatePtr base = find(key, base_id);
  c.previous_id = base ? base_id : 0;
  c.previous = std::move(base);
  c.latest_id = next_state_id_++;
  c.latest = std::move(state);
  c.last_used_ms = now_ms;
  return c.latest_id;
}

void SlidingConnections::forget_device(const std::string& user_id, const std::string& device_id) {
  auto it = connections_.lower_bound(ConnectionKey{user_id, device_id, ""});
  while (it != connections_.end() && it->first.user_id == user_id &&
         it->first.device_id == device_id) {
    it = connections_.erase(it);
  }
}

void SlidingConnections::expire_idle(int64_t now_ms) {
  if (now_ms - last_sweep_ms_ < kSweepEveryMs) return;
  last_sweep_ms_ = now_ms;
  for (auto it = connections_.begin(); it != connections_.end();) {
    if (now_ms - it->second.last_used_ms > kIdleExpiryMs) {
      it = connections_.erase(it);
    } else {
      ++it;
    }
  }
}

// Before adding `key`: the device's least recently used connection goes when it has the most
// it may, and the least recently used of all when the server has.
void SlidingConnections::make_room_for(const ConnectionKey& key) {
  auto lo = connections_.lower_bound(ConnectionKey{key.user_id, key.device_id, ""});
  std::vector<Map::iterator> of_device;
  for (auto it = lo; it != connections_.end() && it->first.user_id == key.user_id &&
                     it->first.device_id == key.device_id;
       ++it) {
    of_device.push_back(it);
  }
  auto least_recent = [](auto begin, auto end) {
    return *std::min_element(begin, end, [](const Map::iterator& a, const Map::iterator& b) {
      return a->second.last_used_ms < b->second.last_used_ms;
    });
  };
  if (of_device.size() >= kMaxPerDevice) {
    connections_.erase(least_recent(of_device.begin(), of_device.end()));
  }
  if (connections_.size() >= kMaxConnections) {
    auto oldest = connections_.begin();
    for (auto it = connections_.begin(); it != connections_.end(); ++it) {
      if (it->second.last_used_ms < oldest->second.last_used_ms) oldest = it;
    }
    connections_.erase(oldest);
  }
}

}  // namespace haven::sync
