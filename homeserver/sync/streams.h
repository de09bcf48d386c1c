// The non-timeline streams that /sync (and later sliding sync) reads: account data,
// receipts, typing, presence. Each has a position; sync asks for what changed since the
// position in the client's token. Stored streams read through a ReadTxn (any thread) and
// write through a WriteTxn (writer thread, inside a Store job); Typing lives in memory (loop
// thread only), as do the functions taking a ServerContext.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "homeserver/base/loop.h"
#include "storage/store.h"

namespace haven {
struct ServerContext;
}

namespace haven::streams {

using Document = rapidjson::Document;

// --- Account data (account_data.cpp) ---
uint64_t account_data_pos(storage::ReadTxn& txn);
struct AccountDataDelta {
  std::vector<Document> global;                        // {"type":..., "content":...}
  std::map<std::string, std::vector<Document>> rooms;  // room_id -> events as above
};
// Everything newer than `since` (0 = all) for `user_id`.
AccountDataDelta account_data_since(storage::ReadTxn& txn, const std::string& user_id,
                                    uint64_t since);
// Every item of one room, as events: for a room the user has just joined.
std::vector<Document> room_account_data(storage::ReadTxn& txn, const std::string& user_id,
                                        const std::string& room_id);
// The content (JSON object text) of one item; `room_id` "" for global account data.
std::optional<std::string> get_account_data(storage::ReadTxn& txn, std::string_view user_id,
                                            std::string_view room_id, std::string_view type);
// Replaces one item's content (`content_json`: a JSON object's text) and moves it to the next
// position of the account data stream. No checks: callers validate.
storage::Status put_account_data(storage::WriteTxn& txn, std::string_view user_id,
                                 std::string_view room_id, std::string_view type,
                                 std::string_view content_json);

// --- Receipts (receipts.cpp) ---
uint64_t receipts_pos(storage::ReadTxn& txn);
// The m.receipt event for `room_id` holding receipts newer than `since` (0 = all), as
// `user_id` may see them (m.read.private only their own); nullopt when there are none.
std::optional<Document> receipts_since(storage::ReadTxn& txn, const std::string& room_id,
                                       uint64_t since, const std::string& user_id);
// The event id of `user_id`'s newest m.read / m.read.private receipt in the room, if any
// (for unread counts). Unthreaded receipts and those of the main timeline count.
std::optional<std::string> own_read_receipt(storage::ReadTxn& txn, const std::string& room_id,
                                            const std::string& user_id);
struct Receipt {
  std::string room_id;
  std::string type;  // m.read or m.read.private
  std::string user_id;
  std::string thread_id;  // "" = unthreaded; "main" or a thread root's event id
  std::string event_id;
  uint64_t event_pos = 0;  // the event's position in the events stream
  int64_t ts = 0;
};
// Stores the receipt unless the user's receipt of that type and thread already points at the
// same or a later event (receipts only move forward). `*changed` says whether it was stored.
storage::Status put_receipt(storage::WriteTxn& txn, const Receipt& receipt, bool* changed);

// --- Typing (typing.cpp): in memory, loop thread only ---
// Longest typing period a client may ask for; longer timeouts are cut to it.
constexpr int64_t kMaxTypingTimeoutMs = 120'000;

class Typing {
 public:
  uint64_t pos() const { return pos_; }
  // Marks `user_id` typing in the room until now+timeout_ms (typing=false removes).
  // Returns true when the set of typers changed.
  bool set(const std::string& room_id, const std::string& user_id, bool typing, int64_t timeout_ms,
           int64_t now_ms);
  // Drops expired typers; returns the rooms whose set changed.
  std::set<std::string> expire(int64_t now_ms);
  // The m.typing event for the room if its typers changed after `since`; nullopt otherwise.
  // A `since` beyond pos() comes from before a restart and counts as 0.
  std::optional<Document> typing_since(const std::string& room_id, uint64_t since) const;
  // Who is typing in the room now (sorted).
  std::vector<std::string> typers(const std::string& room_id) const;
  // Keeps the repeating expiry timer (start_typing_expiry) so that it goes away with this
  // object, which main destroys before the loop.
  void hold_timer(std::unique_ptr<Loop::Timer> timer) { timer_ = std::move(timer); }
  bool has_timer() const { return timer_ != nullptr; }

 private:
  struct RoomTyping {
    std::map<std::string, int64_t> until;  // user -> expiry
    uint64_t changed_at = 0;
  };
  std::map<std::string, RoomTyping> rooms_;
  uint64_t pos_ = 0;
  int64_t next_expiry_ = std::numeric_limits<int64_t>::max();  // earliest `until` of anyone
  std::unique_ptr<Loop::Timer> timer_;
};

// Expires typers once a second on ctx.loop, waking the members of each room whose typers
// changed. Call from main once ctx.loop, ctx.typing and ctx.notifier are set; the typing
// endpoint calls it too (it does nothing when the timer already runs).
void start_typing_expiry(ServerContext& ctx);

// --- Presence (presence.cpp) ---
uint64_t presence_pos(storage::ReadTxn& txn);
// m.presence events of `visible_users` whose presence changed after `since` (0 = all known).
std::vector<Document> presence_since(storage::ReadTxn& txn, uint64_t since,
                                     const std::set<std::string>& visible_users, int64_t now_ms);
struct Presence {
  std::string presence = "offline";  // online, unavailable, offline (as set)
  std::optional<std::string> status_msg;
  int64_t last_active_ts = 0;  // 0 = never seen active
  uint64_t pos = 0;            // position in the presence stream of the last visible change
};
std::optional<Presence> get_presence(storage::ReadTxn& txn, std::string_view user_id);
// Stores `presence`; with `bump`, first moves it to the next presence stream position (so
// /sync sends it again). Bump for changes others should see, not for last-active refreshes.
storage::Status put_presence(storage::WriteTxn& txn, std::string_view user_id, Presence& presence,
                             bool bump);
// The content of the m.presence event (or GET /presence answer) at `now_ms`: an online user
// idle for over five minutes shows as unavailable; currently_active while recently active.
Document presence_content(const Presence& presence, int64_t now_ms);
// /sync's set_presence: "online" or "unavailable" set the user's presence when it differs
// (waking those who share a room with them); "offline" leaves it alone, as the spec says.
// Writes only on a change or, for online, at most once a minute to refresh last_active_ts.
void set_presence_from_sync(ServerContext& ctx, const std::string& user_id,
                            std::string_view set_presence);

// Marks users offline once they have been inactive for presence.offline_after_seconds,
// checking periodically on ctx.loop and waking those who share a room with them. Loop thread;
// main owns it and destroys it before the loop and the store.
class PresenceSweep {
 public:
  explicit PresenceSweep(ServerContext& ctx);
  PresenceSweep(const PresenceSweep&) = delete;
  PresenceSweep& operator=(const PresenceSweep&) = delete;

 private:
  void arm();
  void sweep();

  ServerContext& ctx_;
  int64_t offline_after_ms_;
  std::unique_ptr<Loop::Timer> timer_;
};

}  // namespace haven::streams
