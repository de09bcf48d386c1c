// kDeviceListStream holds u64 pos -> user_id, one entry per user (a new change moves it);
// kDeviceListByUser holds user_id -> u64 pos of that user's latest change.
#include "homeserver/e2ee/device_lists.h"

#include <set>

#include "homeserver/e2ee/device_keys.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/room_access.h"
#include "homeserver/sync/stream_counter.h"
#include "storage/keys.h"

namespace haven::e2ee {

namespace {

using storage::Table;

constexpr std::string_view kCounter = "device_lists";

uint64_t last_change(storage::ReadTxn& txn, std::string_view user_id) {
  auto v = txn.get(Table::kDeviceListByUser, user_id);
  if (!v) return 0;
  return storage::decode_u64(*v).value_or(0);
}

}  // namespace

uint64_t device_lists_pos(storage::ReadTxn& txn) { return streams::stream_counter(txn, kCounter); }

storage::Status mark_device_list_changed(storage::WriteTxn& txn, const std::string& user_id) {
  if (uint64_t old = last_change(txn, user_id); old > 0) {
    if (auto s = txn.del(Table::kDeviceListStream, storage::encode_u64(old)); !s.ok()) return s;
  }
  uint64_t pos = txn.next_counter(kCounter);
  if (auto s = txn.put(Table::kDeviceListStream, storage::encode_u64(pos), user_id); !s.ok()) {
    return s;
  }
  return txn.put(Table::kDeviceListByUser, user_id, storage::encode_u64(pos));
}

DeviceListDelta device_lists_since(storage::ReadTxn& txn, const std::string& user_id,
                                   uint64_t since, uint64_t since_events) {
  std::set<std::string> sharing = rooms::users_sharing_rooms(txn, user_id);
  std::set<std::string> changed;
  std::set<std::string> left;
  for (const std::string& other : sharing) {
    if (last_change(txn, other) > since) changed.insert(other);
  }
  // Joins and leaves after since_events, in rooms the user is in or left since then.
  for (const auto& [room_id, mine] : rooms::rooms_of_user(txn, user_id)) {
    bool joined = mine.membership == "join";
    bool moved_recently = mine.pos > since_events;
    if (!joined && !moved_recently) continue;
    for (const auto& [member, membership] : rooms::members_of_room(txn, room_id)) {
      if (member == user_id) continue;
      bool member_joined = membership == "join";
      bool member_moved = false;
      if (!moved_recently) {
        auto m = rooms::membership(txn, member, room_id);
        member_moved = m && m->pos > since_events;
      }
      bool recent = moved_recently || member_moved;
      if (!recent) continue;
      if (joined && member_joined) {
        changed.insert(member);
      } else if (!sharing.count(member)) {
        left.insert(member);
      }
    }
  }
  return {{changed.begin(), changed.end()}, {left.begin(), left.end()}};
}

storage::Status forget_device_keys(storage::WriteTxn& txn, const std::string& user_id,
                                   const std::string& device_id) {
  if (auto s = delete_device_keys(txn, user_id, device_id); !s.ok()) return s;
  return mark_device_list_changed(txn, user_id);
}

}  // namespace haven::e2ee
