// What /sync v2 (sync_builder) and sliding sync (sliding_builder) both read and write for a
// room or a device: the visible timeline, invite state, member counts and heroes, unread
// counts, and the device's end-to-end encryption fields and to-device inbox. One place, so both
// show exactly the same things under the same visibility and anonymity rules.
// Reads through a ReadTxn on the loop thread (typing and unread caches live there).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "homeserver/client/common.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/room_access.h"
#include "homeserver/sync/filter.h"
#include "homeserver/sync/sync_token.h"

namespace haven::client {

// Every stream's position now: the next_batch a response built at this moment hands out
// (to_device being the stream's position, as for a device whose inbox is read up).
SyncToken current_positions(ServerContext& ctx, storage::ReadTxn& txn);
// True when no stream moved past `since`: a /sync response for that token would be empty.
bool caught_up(const SyncToken& since, const SyncToken& now);

// The newest events of a room the user may see, after `after_pos` up to `until_pos`, oldest
// first, at most `limit` (limited: there were more). `filter` (may be null) drops events by type
// and sender before counting.
struct RoomTimeline {
  std::vector<rooms::StoredEvent> events;
  bool limited = false;
  uint64_t first_pos = 0;  // of the first event; until_pos + 1 when there are none
};
RoomTimeline read_timeline(storage::ReadTxn& txn, const Requester& who, const std::string& room_id,
                           const rooms::RoomAccess& access, uint64_t after_pos, uint64_t until_pos,
                           int64_t limit, const sync::RoomEventFilter* filter);

// The events as clients see them in a sync response (no room_id).
json::Value sync_events_json(storage::ReadTxn& txn, const Requester& who,
                             const std::vector<rooms::StoredEvent>& events, json::Alloc& a);

// Stripped state for an invite (or knock): what a client shows before joining, plus the
// membership event itself; member identities as the care rules let the viewer see them.
json::Value invite_state_events(storage::ReadTxn& txn, const Requester& who,
                                const std::string& room_id,
                                const std::optional<rooms::StoredEvent>& membership_event,
                                json::Alloc& a);

// Member counts and up to five heroes (other joined or invited members, then members who left
// when there are none of those), for the room summary.
struct MemberSummary {
  int64_t joined = 0;
  int64_t invited = 0;
  std::vector<std::string> heroes;
  std::vector<std::string> left_heroes;
};
MemberSummary member_summary(storage::ReadTxn& txn, const std::string& room_id,
                             const std::string& user_id);

// {"notification_count", "highlight_count"} for the user in the room, up to its newest event.
json::Value unread_notifications(ServerContext& ctx, storage::ReadTxn& txn, const Requester& who,
                                 const std::string& room_id, json::Alloc& a);

// device_one_time_keys_count and device_unused_fallback_key_types of the device, set on `obj`.
void set_device_key_counts(storage::ReadTxn& txn, const Requester& who, json::Value& obj,
                           json::Alloc& a);

// {"changed", "left"}: device list changes since (device_lists, events) stream positions;
// `*empty` says whether both are empty.
json::Value device_lists_json(storage::ReadTxn& txn, const Requester& who, uint64_t since,
                              uint64_t since_events, json::Alloc& a, bool* empty);

// The to-device events of an inbox read (e2ee::to_device_inbox) as a JSON array.
json::Value to_device_events_json(const std::vector<std::string>& texts, json::Alloc& a);

// The client holds the device's to-device messages up to `since`: they go. Syncs only read, so
// the deletion is a writer job of its own, queued only when there is something to delete and not
// awaited: the messages are not sent again meanwhile (inbox reads start after `since`), and a
// failed deletion is retried by the next sync.
void delete_acknowledged_to_device(ServerContext& ctx, const Requester& who, uint64_t since);

}  // namespace haven::client
