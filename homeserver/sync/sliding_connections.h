// The per-connection state of simplified sliding sync (MSC4186), in memory: for each (user,
// device, conn_id) what the connection has been sent of each room, its sticky room
// subscriptions and list counts, versioned by the `pos` of each response. Bounded: a few
// connections per device, a cap overall, idle ones expire; a `pos` it no longer knows is the
// client's cue (M_UNKNOWN_POS) to start again. Loop thread only.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "homeserver/sync/sliding_request.h"
#include "homeserver/sync/sync_token.h"

namespace haven::sync {

// What a connection has been sent of one room.
struct SentRoom {
  uint64_t pos = 0;         // the events-stream position up to which the room was delivered
  uint64_t bump_stamp = 0;  // as last sent
  std::shared_ptr<const RoomConfig> config;  // the combined room config it was sent with
  std::string membership;                    // as last sent
};
using SentRooms = std::map<std::string, SentRoom, std::less<>>;

// One version of a connection's state: what the client holds once it has processed the
// response that carried this version's pos. Immutable once stored.
struct ConnectionState {
  SyncToken streams;  // the stream positions the pos stands for
  std::shared_ptr<const SentRooms> rooms = std::make_shared<SentRooms>();  // shared until changed
  std::map<std::string, RoomConfig> subscriptions;  // sticky until unsubscribed
  std::map<std::string, uint64_t> list_counts;
};
using ConnectionStatePtr = std::shared_ptr<const ConnectionState>;

struct ConnectionKey {
  std::string user_id;
  std::string device_id;
  std::string conn_id;
  auto operator<=>(const ConnectionKey&) const = default;
};

// A response's `pos`: the stream positions (a /sync token, so /messages takes it as `from`)
// and the id of the connection state, joined by '~'.
std::string sliding_pos(const SyncToken& streams, uint64_t state_id);
// The state id of a pos; nullopt when it is not one of ours.
std::optional<uint64_t> sliding_pos_state_id(std::string_view pos);

class SlidingConnections {
 public:
  static constexpr size_t kMaxPerDevice = 10;
  static constexpr size_t kMaxConnections = 10'000;
  static constexpr int64_t kIdleExpiryMs = 24LL * 3600 * 1000;

  // State ids start at `first_state_id` (main passes the start time in microseconds, so a pos
  // from before a restart names no state of this process).
  explicit SlidingConnections(uint64_t first_state_id) : next_state_id_(first_state_id) {}

  // A request arrives on the connection (created if new; the device's least recently used
  // connection goes beyond kMaxPerDevice). Returns the request's serial: a newer request on the
  // same connection supersedes it (the MSC allows one in flight; a client that resends cancels).
  uint64_t begin_request(const ConnectionKey& key, int64_t now_ms);
  bool is_current(const ConnectionKey& key, uint64_t request) const;

  // The state a pos names: the latest one sent, or the one before it (the client may retry a
  // request whose response it never got). nullptr when unknown.
  ConnectionStatePtr find(const ConnectionKey& key, uint64_t state_id) const;

  // Stores the state a response carries, computed from `base_id` (0: a fresh start); returns the
  // id for its pos. States older than the base are dropped: the client has moved past them.
  // 0 when the connection is gone (evicted meanwhile).
  uint64_t commit(const ConnectionKey& key, uint64_t base_id, ConnectionStatePtr state,
                  int64_t now_ms);

  // Drops every connection of a device (logout, device deletion).
  void forget_device(const std::string& user_id, const std::string& device_id);

  size_t size() const { return connections_.size(); }

 private:
  struct Connection {
    uint64_t latest_id = 0;
    ConnectionStatePtr latest;
    uint64_t previous_id = 0;
    ConnectionStatePtr previous;
    int64_t last_used_ms = 0;
    uint64_t request = 0;
  };
  using Map = std::map<ConnectionKey, Connection>;

  void expire_idle(int64_t now_ms);
  void make_room_for(const ConnectionKey& key);

  Map connections_;
  uint64_t next_state_id_;
  uint64_t next_request_ = 1;
  int64_t last_sweep_ms_ = 0;
};

}  // namespace haven::sync
