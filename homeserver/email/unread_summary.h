// What a new-message notice may say and whether one is due: how many of the user's
// conversations have unread messages that their push rules notify for, and whether any of
// those arrived after the last notice. Reads only; any thread.
#pragma once

#include <cstdint>
#include <string>

#include "storage/store.h"

namespace haven::email {

struct UnreadSummary {
  int64_t conversations = 0;        // joined rooms with unread notifying messages
  bool new_since_notified = false;  // one of those messages is past `notified_pos`
};

// Unread = after the user's own read receipt in the room (m.read or m.read.private).
UnreadSummary summarize_unread(storage::ReadTxn& txn, const std::string& user_id,
                               uint64_t notified_pos);

}  // namespace haven::email
