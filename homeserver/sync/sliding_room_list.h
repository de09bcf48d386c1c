// The room list simplified sliding sync (MSC4186) windows into: every room the user is joined
// to, invited to, knocking on, or was kicked or banned from, plus the rooms they left themselves
// that this connection was already sent; newest activity first. Also the list filters
// (is_dm, is_encrypted, is_invite, room types, tags, spaces). Reads through a ReadTxn; any
// thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "homeserver/sync/sliding_connections.h"
#include "homeserver/sync/sliding_request.h"
#include "storage/store.h"

namespace haven::sync {

struct RoomListEntry {
  std::string room_id;
  std::string membership;  // join, invite, knock, leave, ban
  std::string membership_event_id;
  uint64_t membership_pos = 0;
  uint64_t activity_pos = 0;  // the sort key: the newest event the user may see
  bool room_gone = false;     // the operator deleted the room; only the membership record is left
};

// The user's list, sorted by activity (newest first, then by room id). `sent`: the rooms this
// connection has been sent, which keeps rooms the user left in the list.
std::vector<RoomListEntry> sliding_room_list(storage::ReadTxn& txn, const std::string& user_id,
                                             const SentRooms& sent);

// Evaluates list filters for one user, reading each piece of account data or state once.
class ListFilterCheck {
 public:
  ListFilterCheck(storage::ReadTxn& txn, std::string user_id);
  bool passes(const ListFilters& filters, const RoomListEntry& room);
  bool is_dm(const std::string& room_id);

 private:
  const std::set<std::string>& dm_rooms();
  const std::set<std::string>& space_children(const std::string& space_id);
  std::set<std::string> tags_of(const std::string& room_id);

  storage::ReadTxn& txn_;
  std::string user_id_;
  std::optional<std::set<std::string>> dm_rooms_;
  std::map<std::string, std::set<std::string>> space_children_;
};

}  // namespace haven::sync
