// kAppserviceQueue: service id \0 u64 seq -> one kind byte then the item's JSON, or for a room's
// event: the kind byte, kSealedMark, room_id \0 and the JSON sealed with the room's at-rest key
// (so a purged room's events cannot be read from freed pages either). The sequence is one
// counter for all services, so each service's items sort in the order they were queued.
// kAppserviceState: service id \0 name -> u64 (cursors) or u64 txn id u64 last seq ("txn").
#include "appservices/queue.h"

#include "storage/keys.h"
#include "storage/sealed.h"

namespace haven::appservice {

namespace {

using storage::KeyBuilder;
using storage::KeyReader;
using storage::Table;

constexpr std::string_view kInFlight = "txn";
constexpr char kSealedMark = '\x01';  // never the first byte of JSON

std::string queue_prefix(std::string_view service_id) {
  return KeyBuilder().str(service_id).take();
}

std::string state_key(std::string_view service_id, std::string_view name) {
  return KeyBuilder().str(service_id).tail(name).take();
}

// The item's JSON; "" when it was sealed with a room key that is gone (the room was purged).
std::string item_json(storage::ReadTxn& txn, std::string_view key, std::string_view value) {
  if (value.size() < 2 || value[1] != kSealedMark) return std::string(value.substr(1));
  KeyReader r(value.substr(2));
  auto room_id = r.str();
  if (!room_id) return {};
  return storage::open_sealed(txn, *room_id, key, r.tail()).value_or("");
}

}  // namespace

storage::Status enqueue(storage::WriteTxn& txn, std::string_view service_id, ItemKind kind,
                        std::string_view json, std::string_view room_id) {
  uint64_t seq = txn.next_counter("appservice_queue");
  std::string key = KeyBuilder().str(service_id).u64(seq).build();
  std::string value(1, static_cast<char>(kind));
  if (room_id.empty()) {
    value.append(json);
  } else {
    storage::Status s;
    auto sealed = storage::seal(txn, room_id, key, json, &s);
    if (!sealed) return s;
    value.push_back(kSealedMark);
    value.append(KeyBuilder().str(room_id).build());
    value.append(*sealed);
  }
  return txn.put(Table::kAppserviceQueue, key, value);
}

std::vector<QueuedItem> peek(storage::ReadTxn& txn, std::string_view service_id, size_t max_items,
                             std::optional<uint64_t> through_seq) {
  std::vector<QueuedItem> items;
  std::string prefix = queue_prefix(service_id);
  txn.scan(Table::kAppserviceQueue, prefix, {}, storage::Direction::kForward,
           [&](std::string_view key, std::string_view value) {
             KeyReader r(key.substr(prefix.size()));
             auto seq = r.u64();
             if (!seq || value.empty()) return true;
             if (through_seq && *seq > *through_seq) return false;
             items.push_back({*seq, static_cast<ItemKind>(value[0]), item_json(txn, key, value)});
             return items.size() < max_items;
           });
  return items;
}

size_t queued_count(storage::ReadTxn& txn, std::string_view service_id, size_t stop_at) {
  size_t n = 0;
  txn.scan(Table::kAppserviceQueue, queue_prefix(service_id), {}, storage::Direction::kForward,
           [&](std::string_view, std::string_view) { return ++n < stop_at; });
  return n;
}

storage::Status remove_through(storage::WriteTxn& txn, std::string_view service_id,
                               uint64_t last_seq) {
  std::vector<std::string> keys;
  std::string prefix = queue_prefix(service_id);
  txn.scan(Table::kAppserviceQueue, prefix, {}, storage::Direction::kForward,
           [&](std::string_view key, std::string_view) {
             KeyReader r(key.substr(prefix.size()));
             auto seq = r.u64();
             if (seq && *seq > last_seq) return false;
             keys.emplace_back(key);
             return true;
           });
  for (const std::string& key : keys) {
    if (auto s = txn.del(Table::kAppserviceQueue, key); !s.ok()) return s;
  }
  return storage::Status::ok_status();
}

std::optional<InFlight> in_flight(storage::ReadTxn& txn, std::string_view service_id) {
  auto value = txn.get(Table::kAppserviceState, state_key(service_id, kInFlight));
  if (!value) return std::nullopt;
  KeyReader r(*value);
  auto id = r.u64();
  auto last = r.u64();
  if (!id || !last) return std::nullopt;
  return InFlight{*id, *last};
}

InFlight begin_in_flight(storage::WriteTxn& txn, std::string_view service_id, uint64_t last_seq,
                         storage::Status* status) {
  InFlight t{txn.next_counter("appservice_txn:" + std::string(service_id)), last_seq};
  *status = txn.put(Table::kAppserviceState, state_key(service_id, kInFlight),
                    KeyBuilder().u64(t.txn_id).u64(t.last_seq).build());
  return t;
}

storage::Status end_in_flight(storage::WriteTxn& txn, std::string_view service_id) {
  return txn.del(Table::kAppserviceState, state_key(service_id, kInFlight));
}

std::optional<uint64_t> cursor(storage::ReadTxn& txn, std::string_view service_id,
                               std::string_view name) {
  auto value = txn.get(Table::kAppserviceState, state_key(service_id, name));
  if (!value) return std::nullopt;
  return storage::decode_u64(*value);
}

storage::Status set_cursor(storage::WriteTxn& txn, std::string_view service_id,
                           std::string_view name, uint64_t pos) {
  return txn.put(Table::kAppserviceState, state_key(service_id, name), storage::encode_u64(pos));
}

}  // namespace haven::appservice
