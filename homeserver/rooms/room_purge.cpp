#include "homeserver/rooms/room_purge.h"

#include <utility>
#include <vector>

#include "homeserver/base/json.h"
#include "homeserver/base/write.h"
#include "homeserver/rooms/event_cache.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/ids.h"
#include "storage/keys.h"

namespace haven::rooms {

namespace {

using storage::Direction;
using storage::KeyBuilder;
using storage::KeyReader;
using storage::Table;

// Up to `limit` (key, value) pairs under `prefix`, copied: deleting while scanning is not allowed.
std::vector<std::pair<std::string, std::string>> first_rows(storage::ReadTxn& txn, Table table,
                                                            std::string_view prefix, size_t limit) {
  std::vector<std::pair<std::string, std::string>> out;
  if (limit == 0) return out;
  txn.scan(table, prefix, {}, Direction::kForward, [&](std::string_view k, std::string_view v) {
    out.emplace_back(std::string(k), std::string(v));
    return out.size() < limit;
  });
  return out;
}

// True when `key` is the last key of `table`: a stream's head, which must stay (see header).
bool is_last_key(storage::ReadTxn& txn, Table table, std::string_view key) {
  bool last = false;
  txn.scan(table, {}, {}, Direction::kBackward, [&](std::string_view k, std::string_view) {
    last = k == key;
    return false;
  });
  return last;
}

Status del_stream_row(storage::WriteTxn& txn, Table table, uint64_t pos) {
  std::string key = storage::encode_u64(pos);
  if (is_last_key(txn, table, key)) return {};
  return check(txn.del(table, key));
}

// One event and every index that names it.
Status purge_event(storage::WriteTxn& txn, std::string_view room_id, uint64_t pos,
                   const std::string& event_id) {
  // Read from the record's plain header: the room's at-rest key is already gone. An event's
  // relation to a parent of the same room goes with the parent (del_prefix below).
  if (auto stored = get_event_header(txn, event_id); stored && stored->room_id == room_id) {
    // A message event's group is its room's current one at the time, made by a state event of
    // the same room: deleting it again is harmless.
    if (stored->state_group) {
      HAVEN_TRY(check(txn.del(Table::kStateGroups, storage::encode_u64(stored->state_group))));
    }
  }
  EventCache::shared().erase(event_id);
  HAVEN_TRY(check(txn.del(Table::kEvents, event_id)));
  HAVEN_TRY(check(txn.del(Table::kEventStateGroup, event_id)));
  HAVEN_TRY(check(txn.del(Table::kRedactions, event_id)));
  HAVEN_TRY(check(txn.del(Table::kEventTxnIds, event_id)));
  HAVEN_TRY(check(txn.del_prefix(Table::kRelations, KeyBuilder().str(event_id).build())));
  HAVEN_TRY(del_stream_row(txn, Table::kStreamEvents, pos));
  return check(txn.del(Table::kRoomTimeline, KeyBuilder().str(room_id).u64(pos).build()));
}

// A member's records for the room: their room account data, then their membership.
Status purge_member(storage::WriteTxn& txn, std::string_view room_id, std::string_view server_name,
                    const std::string& user_id) {
  bool local = server_name_of(user_id) == server_name;
  if (local) {
    std::string prefix = KeyBuilder().str(user_id).str(room_id).build();
    for (auto& [key, value] : first_rows(txn, Table::kAccountData, prefix, SIZE_MAX)) {
      if (auto pos = storage::decode_u64(std::string_view(value).substr(0, 8)); pos) {
        HAVEN_TRY(check(
            txn.del(Table::kAccountDataStream, KeyBuilder().str(user_id).u64(*pos).build())));
      }
      HAVEN_TRY(check(txn.del(Table::kAccountData, key)));
    }
  }
  auto m = membership(txn, user_id, room_id);
  bool keep = local && m && (m->membership == "leave" || m->membership == "ban");
  if (!keep) {
    HAVEN_TRY(check(
        txn.del(Table::kMembershipsByUser, KeyBuilder().str(user_id).tail(room_id).build())));
  }
  return check(txn.del(Table::kRoomMembers, KeyBuilder().str(room_id).tail(user_id).build()));
}

}  // namespace

Result<PurgeStep> purge_room_step(storage::WriteTxn& txn, std::string_view room_id,
                                  std::string_view server_name, size_t budget) {
  PurgeStep step;
  if (budget == 0) budget = 1;
  HAVEN_TRY(check(txn.del(Table::kRooms, room_id)));
  const std::string prefix = KeyBuilder().str(room_id).build();
  // First the key: from here on every sealed copy of the room's content, in live rows or in
  // pages LMDB freed, is ciphertext without a key, even if the purge stops half-way. Parsed
  // copies in the event cache go with it, so no read serves them meanwhile.
  if (txn.at_rest_key(room_id)) {
    txn.scan(Table::kRoomTimeline, prefix, {}, Direction::kForward,
             [](std::string_view, std::string_view event_id) {
               EventCache::shared().erase(event_id);
               return true;
             });
    HAVEN_TRY(check(txn.destroy_at_rest_key(room_id)));
  }
  auto spend = [&](size_t n) {
    step.removed += n;
    budget -= std::min(budget, n);
  };

  for (auto& [key, event_id] : first_rows(txn, Table::kRoomTimeline, prefix, budget)) {
    auto pos = storage::decode_u64(std::string_view(key).substr(prefix.size()));
    if (!pos) {
      HAVEN_TRY(check(txn.del(Table::kRoomTimeline, key)));
    } else {
      HAVEN_TRY(purge_event(txn, room_id, *pos, event_id));
    }
    spend(1);
  }
  if (budget == 0) return step;

  for (auto& [key, value] : first_rows(txn, Table::kCurrentState, prefix, budget)) {
    HAVEN_TRY(check(txn.del(Table::kCurrentState, key)));
    spend(1);
  }
  if (budget == 0) return step;

  for (auto& [key, value] : first_rows(txn, Table::kReceipts, prefix, budget)) {
    auto receipt = json::parse_trusted(value);
    if (receipt.IsObject()) {
      HAVEN_TRY(del_stream_row(txn, Table::kReceiptsStream,
                               static_cast<uint64_t>(json::get_int(receipt, "pos"))));
    }
    HAVEN_TRY(check(txn.del(Table::kReceipts, key)));
    spend(1);
  }
  if (budget == 0) return step;

  for (auto& [key, value] : first_rows(txn, Table::kRoomAliasesByRoom, prefix, budget)) {
    std::string alias = key.substr(prefix.size());
    if (auto target = txn.get(Table::kRoomAliases, alias); target) {
      if (json::get_string(json::parse_trusted(*target), "room_id") == room_id) {
        HAVEN_TRY(check(txn.del(Table::kRoomAliases, alias)));
      }
    }
    HAVEN_TRY(check(txn.del(Table::kRoomAliasesByRoom, key)));
    spend(1);
  }
  if (budget == 0) return step;

  for (auto& [key, value] : first_rows(txn, Table::kRoomMembers, prefix, budget)) {
    HAVEN_TRY(purge_member(txn, room_id, server_name, key.substr(prefix.size())));
    spend(1);
  }
  if (budget == 0) return step;

  HAVEN_TRY(check(txn.del(Table::kCareRoomOwners, room_id)));
  HAVEN_TRY(check(txn.del(Table::kPublishedRooms, room_id)));
  step.done = true;
  return step;
}

std::optional<RoomBlock> room_block(storage::ReadTxn& txn, std::string_view room_id) {
  auto v = txn.get(Table::kBlockedRooms, room_id);
  if (!v) return std::nullopt;
  auto d = json::parse_trusted(*v);
  return RoomBlock{json::get_string(d, "user_id"), json::get_int(d, "ts")};
}

storage::Status block_room(storage::WriteTxn& txn, std::string_view room_id,
                           const RoomBlock& block) {
  auto d = json::object();
  json::set(d, "user_id", block.user_id, d.GetAllocator());
  json::set(d, "ts", block.ts, d.GetAllocator());
  return txn.put(Table::kBlockedRooms, room_id, json::to_string(d));
}

storage::Status unblock_room(storage::WriteTxn& txn, std::string_view room_id) {
  return txn.del(Table::kBlockedRooms, room_id);
}

}  // namespace haven::rooms
