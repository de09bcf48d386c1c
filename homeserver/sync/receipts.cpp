// Receipts: one per (room, type, user, thread), each at its position in the receipts stream.
// kReceipts holds room \0 type \0 user \0 thread -> JSON {event_id, ts, thread_id?, event_pos,
// pos}; kReceiptsStream holds u64 position -> that same key, one entry per receipt (an update
// moves it), so the stream's last key is also the newest position.
#include <algorithm>

#include "homeserver/base/json.h"
#include "homeserver/sync/streams.h"
#include "storage/keys.h"

namespace haven::streams {

namespace {

using storage::Direction;
using storage::KeyBuilder;
using storage::KeyReader;
using storage::Table;

constexpr std::string_view kCounter = "receipts";
// Beyond this many newer positions, reading a room's receipts beats walking the stream.
constexpr uint64_t kStreamWalkLimit = 512;

std::string receipt_key(std::string_view room_id, std::string_view type, std::string_view user_id,
                        std::string_view thread_id) {
  return KeyBuilder().str(room_id).str(type).str(user_id).tail(thread_id).take();
}

struct KeyParts {
  std::string_view room_id, type, user_id, thread_id;
};

std::optional<KeyParts> parse_key(std::string_view key) {
  KeyReader r(key);
  auto room = r.str();
  auto type = r.str();
  auto user = r.str();
  if (!room || !type || !user) return std::nullopt;
  return KeyParts{*room, *type, *user, r.tail()};
}

// Builds the content of an m.receipt event: {event_id: {type: {user: {ts, thread_id?}}}}.
class ReceiptContent {
 public:
  explicit ReceiptContent(Document& doc) : doc_(doc), content_(rapidjson::kObjectType) {}

  void add(const KeyParts& k, std::string_view stored) {
    auto r = json::parse_trusted(stored);
    if (!r.IsObject()) return;
    auto& a = doc_.GetAllocator();
    std::string event_id = json::get_string(r, "event_id");
    if (event_id.empty()) return;
    json::Value& by_type = member(content_, event_id);
    json::Value& by_user = member(by_type, k.type);
    json::Value receipt(rapidjson::kObjectType);
    json::set(receipt, "ts", json::get_int(r, "ts"), a);
    if (!k.thread_id.empty()) json::set(receipt, "thread_id", k.thread_id, a);
    json::set(by_user, k.user_id, std::move(receipt), a);
    ++count_;
  }

  std::optional<Document> finish() {
    if (count_ == 0) return std::nullopt;
    auto& a = doc_.GetAllocator();
    doc_.SetObject();
    json::set(doc_, "type", "m.receipt", a);
    json::set(doc_, "content", std::move(content_), a);
    return std::move(doc_);
  }

 private:
  json::Value& member(json::Value& obj, std::string_view key) {
    auto it = obj.FindMember(json::Value(rapidjson::StringRef(key.data(), key.size())));
    if (it != obj.MemberEnd()) return it->value;
    obj.AddMember(json::str(key, doc_.GetAllocator()), json::Value(rapidjson::kObjectType),
                  doc_.GetAllocator());
    return (obj.MemberEnd() - 1)->value;
  }

  Document& doc_;
  json::Value content_;
  size_t count_ = 0;
};

}  // namespace

uint64_t receipts_pos(storage::ReadTxn& txn) {
  uint64_t pos = 0;
  txn.scan(Table::kReceiptsStream, {}, {}, Direction::kBackward,
           [&](std::string_view key, std::string_view) {
             pos = storage::decode_u64(key).value_or(0);
             return false;
           });
  return pos;
}

std::optional<Document> receipts_since(storage::ReadTxn& txn, const std::string& room_id,
                                       uint64_t since, const std::string& user_id) {
  Document doc;
  ReceiptContent content(doc);
  auto visible = [&](const KeyParts& k) {
    return k.type != "m.read.private" || k.user_id == user_id;
  };
  uint64_t now = since == 0 ? 0 : receipts_pos(txn);
  if (since == 0 || now - std::min(now, since) > kStreamWalkLimit) {
    std::string prefix = KeyBuilder().str(room_id).take();
    txn.scan(Table::kReceipts, prefix, {}, Direction::kForward,
             [&](std::string_view key, std::string_view value) {
               auto k = parse_key(key);
               if (!k || !visible(*k)) return true;
               if (since != 0) {
                 auto r = json::parse_trusted(value);
                 if (static_cast<uint64_t>(json::get_int(r, "pos")) <= since) return true;
               }
               content.add(*k, value);
               return true;
             });
  } else {
    txn.scan(Table::kReceiptsStream, {}, storage::encode_u64(since + 1), Direction::kForward,
             [&](std::string_view, std::string_view key) {
               auto k = parse_key(key);
               if (!k || k->room_id != room_id || !visible(*k)) return true;
               if (auto value = txn.get(Table::kReceipts, key); value) content.add(*k, *value);
               return true;
             });
  }
  return content.finish();
}

std::optional<std::string> own_read_receipt(storage::ReadTxn& txn, const std::string& room_id,
                                            const std::string& user_id) {
  std::optional<std::string> best;
  int64_t best_pos = -1;
  for (const char* type : {"m.read", "m.read.private"}) {
    std::string prefix = KeyBuilder().str(room_id).str(type).str(user_id).take();
    txn.scan(Table::kReceipts, prefix, {}, Direction::kForward,
             [&](std::string_view key, std::string_view value) {
               std::string_view thread = key.substr(prefix.size());
               if (!thread.empty() && thread != "main") return true;
               auto r = json::parse_trusted(value);
               int64_t pos = json::get_int(r, "event_pos", -1);
               if (pos > best_pos) {
                 best_pos = pos;
                 best = json::get_string(r, "event_id");
               }
               return true;
             });
  }
  return best;
}

storage::Status put_receipt(storage::WriteTxn& txn, const Receipt& receipt, bool* changed) {
  *changed = false;
  std::string key = receipt_key(receipt.room_id, receipt.type, receipt.user_id, receipt.thread_id);
  if (auto old = txn.get(Table::kReceipts, key); old) {
    auto r = json::parse_trusted(*old);
    if (json::get_int(r, "event_pos") >= static_cast<int64_t>(receipt.event_pos)) {
      return storage::Status::ok_status();
    }
    int64_t old_pos = json::get_int(r, "pos");
    if (auto s = txn.del(Table::kReceiptsStream, storage::encode_u64(old_pos)); !s.ok()) return s;
  }
  uint64_t pos = txn.next_counter(kCounter);
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "event_id", receipt.event_id, a);
  json::set(d, "ts", receipt.ts, a);
  if (!receipt.thread_id.empty()) json::set(d, "thread_id", receipt.thread_id, a);
  json::set(d, "event_pos", static_cast<int64_t>(receipt.event_pos), a);
  json::set(d, "pos", static_cast<int64_t>(pos), a);
  if (auto s = txn.put(Table::kReceipts, key, json::to_string(d)); !s.ok()) return s;
  if (auto s = txn.put(Table::kReceiptsStream, storage::encode_u64(pos), key); !s.ok()) return s;
  *changed = true;
  return storage::Status::ok_status();
}

}  // namespace haven::streams
