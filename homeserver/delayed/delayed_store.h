// Delayed events (MSC4140) in storage: one record per delay_id, scheduled or finalised, with
// indexes by due time, by owner and by the state slot a delayed state event would fill. Records
// are sealed with their room's at-rest key (they hold the content); the indexes hold ids only.
// Pure storage functions: any thread, inside the caller's transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "homeserver/base/result.h"
#include "storage/store.h"

namespace haven::delayed {

enum class Outcome { kScheduled, kSent, kCancelled, kFailed };

struct DelayedEvent {
  std::string delay_id;
  std::string user_id;
  std::string device_id;
  std::string room_id;
  std::string type;
  std::optional<std::string> state_key;
  std::string content_json;  // the event content as the client gave it
  int64_t delay_ms = 0;
  int64_t scheduled_at = 0;  // when it was scheduled or last restarted
  Outcome outcome = Outcome::kScheduled;
  std::string event_id;      // kSent
  std::string error_json;    // kFailed: the standard error response that stopped it
  int64_t finalised_ts = 0;  // not kScheduled

  int64_t due_ms() const { return scheduled_at + delay_ms; }
  std::string to_json() const;
  static std::optional<DelayedEvent> from_json(std::string_view text);
};

// Finalised records are kept this long, and at most this many per user (the MSC's advice).
constexpr int64_t kFinalisedRetentionMs = int64_t{7} * 24 * 3600 * 1000;
constexpr size_t kMaxFinalisedPerUser = 1000;

std::optional<DelayedEvent> get(storage::ReadTxn& txn, std::string_view delay_id);

// Deletes every record of `room_id`, scheduled or finalised, with its indexes (the admin API's
// room purge, before the room's at-rest key is destroyed). Scans every record: purges are rare.
Status delete_room_delayed(storage::WriteTxn& txn, std::string_view room_id);

// Stores a new scheduled record with its indexes.
Status schedule(storage::WriteTxn& txn, const DelayedEvent& event);

// Moves a scheduled record's send time to now + its delay.
Status restart(storage::WriteTxn& txn, DelayedEvent& event, int64_t now);

// Marks a scheduled record finalised (sent, cancelled or failed), drops it from the schedule
// and forgets the owner's finalised records older than the retention.
Status finalise(storage::WriteTxn& txn, DelayedEvent& event, Outcome outcome, int64_t now,
                std::string event_id = {}, std::string error_json = {});

// The user's scheduled delayed events, soonest first.
std::vector<DelayedEvent> scheduled_of_user(storage::ReadTxn& txn, std::string_view user_id);

// When the earliest scheduled event is due, if any.
std::optional<int64_t> earliest_due(storage::ReadTxn& txn);

// Ids of scheduled events due at or before `now`, soonest first, at most `limit`.
std::vector<std::string> due_by(storage::ReadTxn& txn, int64_t now, size_t limit);

// Scheduled delayed state events for (room, type, state_key) of users other than `sender`.
std::vector<std::string> others_at_state(storage::ReadTxn& txn, std::string_view room_id,
                                         std::string_view type, std::string_view state_key,
                                         std::string_view sender);

}  // namespace haven::delayed
