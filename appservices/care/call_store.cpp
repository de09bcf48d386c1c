#include "appservices/care/call_store.h"

#include <algorithm>

#include "homeserver/base/json.h"
#include "homeserver/base/write.h"
#include "storage/keys.h"

namespace haven::care {

namespace {

using storage::KeyBuilder;
using storage::KeyReader;
using storage::Table;

uint64_t key_time(int64_t ms) { return static_cast<uint64_t>(std::max<int64_t>(ms, 0)); }

std::string live_prefix(const std::string& room_id) { return KeyBuilder().str(room_id).take(); }

std::string live_key(const LiveCall& c) {
  return KeyBuilder().str(c.room_id).str(kind_name(c.kind)).tail(c.call_id).take();
}

std::string ledger_key(int64_t started_ms, uint64_t seq) {
  return KeyBuilder().u64(key_time(started_ms)).u64(seq).take();
}

json::Value string_array(const std::vector<std::string>& items, json::Alloc& a) {
  json::Value list(rapidjson::kArrayType);
  for (const auto& s : items) list.PushBack(json::str(s, a), a);
  return list;
}

std::vector<std::string> strings_of(const json::Value& obj, const char* key) {
  std::vector<std::string> out;
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsArray()) return out;
  for (const auto& v : it->value.GetArray()) {
    if (v.IsString()) out.emplace_back(v.GetString(), v.GetStringLength());
  }
  return out;
}

std::string encode_live(const LiveCall& c) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "room_id", c.room_id, a);
  json::set(d, "kind", kind_name(c.kind), a);
  json::set(d, "call_id", c.call_id, a);
  json::set(d, "ringing", c.ringing, a);
  json::set(d, "started_ms", c.started_ms, a);
  json::set(d, "ring_expires_ms", c.ring_expires_ms, a);
  json::Value slots(rapidjson::kArrayType);
  for (const auto& s : c.slots) {
    json::Value v(rapidjson::kObjectType);
    json::set(v, "slot", s.slot, a);
    json::set(v, "state_key", s.state_key, a);
    json::set(v, "user_id", s.user_id, a);
    json::set(v, "expires_ms", s.expires_ms, a);
    slots.PushBack(std::move(v), a);
  }
  json::set(d, "slots", std::move(slots), a);
  json::set(d, "participants", string_array(c.participants, a), a);
  json::set(d, "owner", c.owner, a);
  return json::to_string(d);
}

std::optional<LiveCall> decode_live(std::string_view text) {
  auto d = json::parse_trusted(text);
  if (!d.IsObject()) return std::nullopt;
  auto kind = parse_kind(json::get_string(d, "kind"));
  if (!kind) return std::nullopt;
  LiveCall c;
  c.room_id = json::get_string(d, "room_id");
  c.kind = *kind;
  c.call_id = json::get_string(d, "call_id");
  c.ringing = json::get_bool(d, "ringing");
  c.started_ms = json::get_int(d, "started_ms");
  c.ring_expires_ms = json::get_int(d, "ring_expires_ms");
  if (auto it = d.FindMember("slots"); it != d.MemberEnd() && it->value.IsArray()) {
    for (const auto& v : it->value.GetArray()) {
      if (!v.IsObject()) continue;
      c.slots.push_back(CallSlot{json::get_string(v, "slot"), json::get_string(v, "state_key"),
                                 json::get_string(v, "user_id"), json::get_int(v, "expires_ms")});
    }
  }
  c.participants = strings_of(d, "participants");
  c.owner = json::get_string(d, "owner");
  return c;
}

std::string encode_ended(const EndedCall& e) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "seq", static_cast<int64_t>(e.seq), a);
  json::set(d, "room_id", e.room_id, a);
  json::set(d, "kind", kind_name(e.kind), a);
  json::set(d, "call_id", e.call_id, a);
  json::set(d, "started_ms", e.started_ms, a);
  json::set(d, "ended_ms", e.ended_ms, a);
  json::set(d, "minutes", e.minutes, a);
  json::set(d, "participants", string_array(e.participants, a), a);
  json::set(d, "owner", e.owner, a);
  json::set(d, "end_reason", e.end_reason, a);
  return json::to_string(d);
}

std::optional<EndedCall> decode_ended(std::string_view text) {
  auto d = json::parse_trusted(text);
  if (!d.IsObject()) return std::nullopt;
  auto kind = parse_kind(json::get_string(d, "kind"));
  if (!kind) return std::nullopt;
  EndedCall e;
  e.seq = static_cast<uint64_t>(json::get_int(d, "seq"));
  e.room_id = json::get_string(d, "room_id");
  e.kind = *kind;
  e.call_id = json::get_string(d, "call_id");
  e.started_ms = json::get_int(d, "started_ms");
  e.ended_ms = json::get_int(d, "ended_ms");
  e.minutes = json::get_int(d, "minutes");
  e.participants = strings_of(d, "participants");
  e.owner = json::get_string(d, "owner");
  e.end_reason = json::get_string(d, "end_reason");
  return e;
}

// The same call already in the ledger: haven sends a transaction again when it did not see
// the answer, and its events must not count a call twice.
bool already_recorded(storage::WriteTxn& txn, const EndedCall& e) {
  bool found = false;
  txn.scan(Table::kCareCallLedger, KeyBuilder().u64(key_time(e.started_ms)).take(), "",
           storage::Direction::kForward, [&](std::string_view, std::string_view value) {
             auto old = decode_ended(value);
             found = old && old->room_id == e.room_id && old->kind == e.kind &&
                     old->call_id == e.call_id && old->ended_ms == e.ended_ms;
             return !found;
           });
  return found;
}

storage::Status add_to_ledger(storage::WriteTxn& txn, EndedCall& e) {
  if (already_recorded(txn, e)) return storage::Status::ok_status();
  e.seq = txn.next_counter("care_call_ledger");
  std::string key = ledger_key(e.started_ms, e.seq);
  auto s = txn.put(Table::kCareCallLedger, key, encode_ended(e));
  if (!s.ok()) return s;
  return txn.put(Table::kCareCallsByOwner, KeyBuilder().str(e.owner).tail(key).take(), "");
}

}  // namespace

std::vector<LiveCall> CallStore::live_in_room(const std::string& room_id) const {
  std::vector<LiveCall> out;
  auto txn = store_.begin_read();
  if (!txn) return out;
  txn->scan(Table::kCareLiveCalls, live_prefix(room_id), "", storage::Direction::kForward,
            [&](std::string_view, std::string_view value) {
              if (auto c = decode_live(value)) out.push_back(std::move(*c));
              return true;
            });
  return out;
}

std::vector<std::string> CallStore::rooms_with_live_calls(size_t limit) const {
  std::vector<std::string> out;
  auto txn = store_.begin_read();
  if (!txn) return out;
  txn->scan(Table::kCareLiveCalls, "", "", storage::Direction::kForward,
            [&](std::string_view key, std::string_view) {
              KeyReader r(key);
              auto room = r.str();
              if (room && (out.empty() || out.back() != *room)) out.emplace_back(*room);
              return out.size() < limit;
            });
  return out;
}

std::vector<LiveCall> CallStore::all_live(size_t limit) const {
  std::vector<LiveCall> out;
  auto txn = store_.begin_read();
  if (!txn) return out;
  txn->scan(Table::kCareLiveCalls, "", "", storage::Direction::kForward,
            [&](std::string_view, std::string_view value) {
              if (auto c = decode_live(value)) out.push_back(std::move(*c));
              return out.size() < limit;
            });
  return out;
}

Status CallStore::save(const std::string& room_id, RoomCalls& calls,
                       const std::optional<TemporaryRoom>& room) {
  // The job may run twice (the batch is retried after the map grows): it works on a copy, and
  // the seq numbers it assigned are taken over only once it is durable.
  auto ended = std::make_shared<std::vector<EndedCall>>();
  std::vector<LiveCall> live = calls.calls;
  std::vector<EndedCall> to_add = calls.ended;
  auto s = check(store_.run([&, ended](storage::WriteTxn& txn) {
    *ended = to_add;
    auto st = txn.del_prefix(Table::kCareLiveCalls, live_prefix(room_id));
    for (size_t i = 0; st.ok() && i < live.size(); ++i) {
      st = txn.put(Table::kCareLiveCalls, live_key(live[i]), encode_live(live[i]));
    }
    for (size_t i = 0; st.ok() && i < ended->size(); ++i) st = add_to_ledger(txn, (*ended)[i]);
    if (st.ok() && room) st = TemporaryStore::put_in(txn, *room);
    return st;
  }));
  if (s.ok()) calls.ended = std::move(*ended);
  return s;
}

void CallStore::scan_ledger(int64_t from_ms, int64_t to_ms, const std::optional<std::string>& owner,
                            const std::function<bool(const EndedCall&)>& visit) const {
  auto txn = store_.begin_read();
  if (!txn) return;
  std::string from = KeyBuilder().u64(key_time(from_ms)).take();
  auto in_range = [to_ms](std::string_view ledger_key_bytes) {
    KeyReader r(ledger_key_bytes);
    auto started = r.u64();
    return started && *started < key_time(to_ms);
  };
  if (!owner) {
    txn->scan(Table::kCareCallLedger, "", from, storage::Direction::kForward,
              [&](std::string_view key, std::string_view value) {
                if (!in_range(key)) return false;
                auto e = decode_ended(value);
                return !e || visit(*e);
              });
    return;
  }
  std::string prefix = KeyBuilder().str(*owner).take();
  txn->scan(Table::kCareCallsByOwner, prefix, prefix + from, storage::Direction::kForward,
            [&](std::string_view key, std::string_view) {
              std::string_view ledger = key.substr(prefix.size());
              if (!in_range(ledger)) return false;
              auto v = txn->get(Table::kCareCallLedger, ledger);
              auto e = v ? decode_ended(*v) : std::nullopt;
              return !e || visit(*e);
            });
}

}  // namespace haven::care
