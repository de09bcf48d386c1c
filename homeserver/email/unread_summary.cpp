#include "homeserver/email/unread_summary.h"

#include <algorithm>

#include "homeserver/push/push_rules.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/sync/streams.h"

namespace haven::email {

namespace {

uint64_t read_pos_of(storage::ReadTxn& txn, const std::string& room_id,
                     const std::string& user_id) {
  auto event_id = streams::own_read_receipt(txn, room_id, user_id);
  if (!event_id) return 0;
  auto ev = rooms::get_event(txn, *event_id);
  return ev ? ev->pos : 0;
}

}  // namespace

UnreadSummary summarize_unread(storage::ReadTxn& txn, const std::string& user_id,
                               uint64_t notified_pos) {
  UnreadSummary summary;
  push::Ruleset rules = push::load_rules(txn, user_id);
  push::UnreadInputs known{&rules, std::nullopt};
  for (const auto& [room_id, membership] : rooms::rooms_of_user(txn, user_id)) {
    if (membership.membership != "join") continue;
    auto room = rooms::get_room(txn, room_id);
    uint64_t read_pos = read_pos_of(txn, room_id, user_id);
    if (!room || room->last_pos <= read_pos) continue;
    if (push::unread_counts(txn, room_id, user_id, read_pos, nullptr, known).notification_count ==
        0) {
      continue;
    }
    ++summary.conversations;
    if (!summary.new_since_notified && room->last_pos > notified_pos) {
      uint64_t after = std::max(read_pos, notified_pos);
      summary.new_since_notified =
          push::unread_counts(txn, room_id, user_id, after, nullptr, known).notification_count > 0;
    }
  }
  return summary;
}

}  // namespace haven::email
