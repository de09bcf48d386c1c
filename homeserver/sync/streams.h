// The non-timeline streams that /sync (and later sliding sync) reads: account data,
// receipts, typing, presence. Each has a position; sync asks for what changed since the
// position in the client's token. Stored streams read through a ReadTxn (any thread); Typing
// lives in memory (loop thread only).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "storage/store.h"

namespace haven::streams {

using Document = rapidjson::Document;

// --- Account data (account_data.cpp) ---
uint64_t account_data_pos(storage::ReadTxn& txn);
struct AccountDataDelta {
  std::vector<Document> global;                         // {"type":..., "content":...}
  std::map<std::string, std::vector<Document>> rooms;  // room_id -> events as above
};
// Everything newer than `since` (0 = all) for `user_id`.
AccountDataDelta account_data_since(storage::ReadTxn& txn, const std::string& user_id,
                                    uint64_t since);

// --- Receipts (receipts.cpp) ---
uint64_t receipts_pos(storage::ReadTxn& txn);
// The m.receipt event for `room_id` holding receipts newer than `since` (0 = all), as
// `user_id` may see them (m.read.private only their own); nullopt when there are none.
std::optional<Document> receipts_since(storage::ReadTxn& txn, const std::string& room_id,
                                       uint64_t since, const std::string& user_id);
// The event id of `user_id`'s newest m.read / m.read.private receipt in the room, if any
// (for unread counts).
std::optional<std::string> own_read_receipt(storage::ReadTxn& txn, const std::string& room_id,
                                            const std::string& user_id);

// --- Typing (typing.cpp): in memory, loop thread only ---
class Typing {
 public:
  uint64_t pos() const { return pos_; }
  // Marks `user_id` typing in the room until now+timeout_ms (typing=false removes).
  // Returns true when the set of typers changed.
  bool set(const std::string& room_id, const std::string& user_id, bool typing,
           int64_t timeout_ms, int64_t now_ms);
  // Drops expired typers; returns the rooms whose set changed.
  std::set<std::string> expire(int64_t now_ms);
  // The m.typing event for the room if its typers changed after `since`; nullopt otherwise.
  std::optional<Document> typing_since(const std::string& room_id, uint64_t since) const;

 private:
  struct RoomTyping {
    std::map<std::string, int64_t> until;  // user -> expiry
    uint64_t changed_at = 0;
  };
  std::map<std::string, RoomTyping> rooms_;
  uint64_t pos_ = 0;
};

// --- Presence (presence.cpp) ---
uint64_t presence_pos(storage::ReadTxn& txn);
// m.presence events of `visible_users` whose presence changed after `since` (0 = all known).
std::vector<Document> presence_since(storage::ReadTxn& txn, uint64_t since,
                                     const std::set<std::string>& visible_users, int64_t now_ms);

}  // namespace haven::streams
