// kDeviceListStream holds u64 pos -> user_id, one entry per user (a new change moves it);
// kDeviceListByUser holds user_id -> u64 pos of that user's latest change.
#include "homeserver/e2ee/device_lists.h"

#include <optional>
#include <set>

#include "homeserver/e2ee/device_keys.h"
#include "homeserver/e2ee/to_device.h"
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
  // Who shares a room with the user: needed only when something changed, so computed lazily.
  std::optional<std::set<std::string>> sharing_cache;
  auto shares = [&](const std::string& other) {
    if (!sharing_cache) sharing_cache = rooms::users_sharing_rooms(txn, user_id);
    return sharing_cache->count(other) > 0;
  };
  std::set<std::string> changed;
  std::set<std::string> left;
  // Keys or devices that changed after `since`, of users the user shares a room with.
  txn.scan(Table::kDeviceListStream, {}, storage::encode_u64(since + 1),
           storage::Direction::kForward, [&](std::string_view, std::string_view user) {
             if (shares(std::string(user))) changed.emplace(user);
             return true;
           });
  // Memberships that changed after since_events in the user's rooms.
  for (const auto& [room_id, mine] : rooms::rooms_of_user(txn, user_id)) {
    bool joined = mine.membership == "join";
    if (mine.pos > since_events) {
      // The user joined or left since then: everyone in the room is new to them, or gone.
      for (const auto& [member, membership] : rooms::members_of_room(txn, room_id)) {
        if (member == user_id || membership != "join") continue;
        if (joined) {
          changed.insert(member);
        } else if (!shares(member)) {
          left.insert(member);
        }
      }
      continue;
    }
    if (!joined) continue;
    rooms::scan_timeline(txn, room_id, since_events + 1, storage::Direction::kForward,
                         [&](uint64_t, std::string_view event_id) {
                           auto ev = rooms::get_event(txn, event_id);
                           if (!ev || ev->event->type() != "m.room.member") return true;
                           const std::string& member = ev->event->state_key().value_or("");
                           if (member == user_id) return true;
                           if (ev->event->membership() == "join") {
                             changed.insert(member);
                           } else if (!shares(member)) {
                             left.insert(member);
                           }
                           return true;
                         });
  }
  for (const auto& u : left) changed.erase(u);
  return {{changed.begin(), changed.end()}, {left.begin(), left.end()}};
}

storage::Status forget_device_keys(storage::WriteTxn& txn, const std::string& user_id,
                                   const std::string& device_id) {
  if (auto s = delete_device_keys(txn, user_id, device_id); !s.ok()) return s;
  // Every path that removes a device comes here, so its pending to-device messages go too.
  if (auto s = delete_to_device_inbox(txn, user_id, device_id); !s.ok()) return s;
  return mark_device_list_changed(txn, user_id);
}

}  // namespace haven::e2ee
