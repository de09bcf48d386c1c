// Account data: per-user items, global or per room, each at its position in the account data
// stream. kAccountData holds user \0 room \0 type -> u64 position + content JSON; the stream
// table holds user \0 u64 position -> room \0 type, one entry per item (an update moves it).
#include "homeserver/base/json.h"
#include "homeserver/sync/stream_counter.h"
#include "homeserver/sync/streams.h"
#include "storage/keys.h"

namespace haven::streams {

namespace {

using storage::KeyBuilder;
using storage::KeyReader;
using storage::Table;

constexpr std::string_view kCounter = "account_data";

std::string item_key(std::string_view user_id, std::string_view room_id, std::string_view type) {
  return KeyBuilder().str(user_id).str(room_id).tail(type).take();
}

std::string stream_key(std::string_view user_id, uint64_t pos) {
  return KeyBuilder().str(user_id).u64(pos).take();
}

// A stored item: its stream position (8 bytes) then its content.
std::optional<uint64_t> pos_of(std::string_view value) {
  if (value.size() < 8) return std::nullopt;
  return storage::decode_u64(value.substr(0, 8));
}

}  // namespace

uint64_t account_data_pos(storage::ReadTxn& txn) { return stream_counter(txn, kCounter); }

namespace {

Document account_data_event(std::string_view type, std::string_view stored) {
  Document event;
  auto content = json::parse_trusted(stored.substr(8));
  if (!content.IsObject()) return event;
  event.SetObject();
  auto& a = event.GetAllocator();
  json::set(event, "type", type, a);
  json::Value c;
  c.CopyFrom(content, a);
  json::set(event, "content", std::move(c), a);
  return event;
}

}  // namespace

std::vector<Document> room_account_data(storage::ReadTxn& txn, const std::string& user_id,
                                        const std::string& room_id) {
  std::vector<Document> events;
  std::string prefix = KeyBuilder().str(user_id).str(room_id).take();
  txn.scan(Table::kAccountData, prefix, "", storage::Direction::kForward,
           [&](std::string_view key, std::string_view value) {
             if (value.size() < 8) return true;
             Document event = account_data_event(key.substr(prefix.size()), value);
             if (event.IsObject()) events.push_back(std::move(event));
             return true;
           });
  return events;
}

AccountDataDelta account_data_since(storage::ReadTxn& txn, const std::string& user_id,
                                    uint64_t since) {
  AccountDataDelta delta;
  std::string prefix = KeyBuilder().str(user_id).take();
  txn.scan(Table::kAccountDataStream, prefix, stream_key(user_id, since + 1),
           storage::Direction::kForward, [&](std::string_view, std::string_view value) {
             KeyReader r(value);
             auto room = r.str();
             if (!room) return true;
             std::string room_id(*room);
             std::string type(r.tail());
             auto stored = txn.get(Table::kAccountData, item_key(user_id, room_id, type));
             if (!stored || stored->size() < 8) return true;
             Document event = account_data_event(type, *stored);
             if (!event.IsObject()) return true;
             if (room_id.empty()) {
               delta.global.push_back(std::move(event));
             } else {
               delta.rooms[room_id].push_back(std::move(event));
             }
             return true;
           });
  return delta;
}

std::optional<std::string> get_account_data(storage::ReadTxn& txn, std::string_view user_id,
                                            std::string_view room_id, std::string_view type) {
  auto stored = txn.get(Table::kAccountData, item_key(user_id, room_id, type));
  if (!stored || stored->size() < 8) return std::nullopt;
  return std::string(stored->substr(8));
}

storage::Status put_account_data(storage::WriteTxn& txn, std::string_view user_id,
                                 std::string_view room_id, std::string_view type,
                                 std::string_view content_json) {
  std::string key = item_key(user_id, room_id, type);
  if (auto old = txn.get(Table::kAccountData, key); old) {
    if (auto old_pos = pos_of(*old); old_pos) {
      if (auto s = txn.del(Table::kAccountDataStream, stream_key(user_id, *old_pos)); !s.ok()) {
        return s;
      }
    }
  }
  uint64_t pos = txn.next_counter(kCounter);
  std::string value = storage::encode_u64(pos);
  value.append(content_json);
  if (auto s = txn.put(Table::kAccountData, key, value); !s.ok()) return s;
  return txn.put(Table::kAccountDataStream, stream_key(user_id, pos),
                 KeyBuilder().str(room_id).tail(type).take());
}

}  // namespace haven::streams
