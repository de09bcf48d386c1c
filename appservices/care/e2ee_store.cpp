#include "appservices/care/e2ee_store.h"

#include "crypto/base64.h"
#include "homeserver/base/json.h"
#include "homeserver/base/write.h"
#include "storage/keys.h"
#include "storage/sealed.h"

namespace haven::care {

namespace {

using storage::KeyBuilder;
using storage::KeyReader;
using storage::Table;

// Keys of kCareE2ee: "a" the account; "o" \0 sender_key \0 session_id an Olm session;
// "g" \0 room_id \0 session_id a Megolm session; "p" \0 room_id \0 u64 seq a parked event.
constexpr std::string_view kAccountKey = "a";

std::string olm_key(std::string_view sender_key, std::string_view session_id) {
  return KeyBuilder().str("o").str(sender_key).tail(session_id).take();
}
std::string group_prefix(std::string_view room_id) {
  return KeyBuilder().str("g").str(room_id).take();
}
std::string parked_prefix(std::string_view room_id) {
  return KeyBuilder().str("p").str(room_id).take();
}

std::string encode_account(const StoredAccount& a) {
  auto d = json::object();
  json::set(d, "device_id", a.device_id, d.GetAllocator());
  json::set(d, "account", crypto::base64_encode(a.account), d.GetAllocator());
  json::set(d, "master_seed", crypto::base64_encode(a.master_seed), d.GetAllocator());
  json::set(d, "self_signing_seed", crypto::base64_encode(a.self_signing_seed), d.GetAllocator());
  return json::to_string(d);
}


std::string encode_group(const StoredGroupSession& g) {
  auto d = json::object();
  auto& al = d.GetAllocator();
  json::set(d, "sender", g.sender, al);
  json::set(d, "sender_key", g.sender_key, al);
  json::set(d, "session", crypto::base64_encode(g.session), al);
  return json::to_string(d);
}

// Values are sealed with an at-rest key: a room's with the room's (destroyed when the room is
// forgotten, so copies in freed pages become unreadable too), the device's with kDeviceScope.
constexpr std::string_view kDeviceScope = "haven-care device";

storage::Status put_sealed(storage::WriteTxn& txn, std::string_view scope, const std::string& key,
                           std::string_view value) {
  storage::Status status;
  auto sealed = storage::seal(txn, scope, key, value, &status);
  if (!sealed) return status;
  return txn.put(Table::kCareE2ee, key, *sealed);
}

std::optional<std::string> get_sealed(storage::ReadTxn& txn, std::string_view scope,
                                      const std::string& key) {
  auto v = txn.get(Table::kCareE2ee, key);
  if (!v) return std::nullopt;
  return storage::open_sealed(txn, scope, key, *v);
}

storage::Status put_account_in(storage::WriteTxn& txn, const StoredAccount& a) {
  return put_sealed(txn, kDeviceScope, std::string(kAccountKey), encode_account(a));
}

}  // namespace

std::optional<StoredAccount> E2eeStore::account() const {
  auto txn = store_.begin_read();
  if (!txn) return std::nullopt;
  auto v = get_sealed(*txn, kDeviceScope, std::string(kAccountKey));
  if (!v) return std::nullopt;
  auto d = json::parse_trusted(*v);
  if (!d.IsObject()) return std::nullopt;
  auto bytes = crypto::base64_decode(json::get_string(d, "account"));
  auto master = crypto::base64_decode(json::get_string(d, "master_seed"));
  auto self_signing = crypto::base64_decode(json::get_string(d, "self_signing_seed"));
  if (!bytes || !master || !self_signing) return std::nullopt;
  return StoredAccount{json::get_string(d, "device_id"), std::move(*bytes), std::move(*master),
                       std::move(*self_signing)};
}

Status E2eeStore::put_account(const StoredAccount& a) {
  return check(store_.run([&a](storage::WriteTxn& txn) { return put_account_in(txn, a); }));
}

std::vector<StoredOlmSession> E2eeStore::olm_sessions(const std::string& sender_key) const {
  std::vector<StoredOlmSession> out;
  auto txn = store_.begin_read();
  if (!txn) return out;
  const std::string prefix = KeyBuilder().str("o").str(sender_key).take();
  txn->scan(Table::kCareE2ee, prefix, "", storage::Direction::kForward,
            [&](std::string_view key, std::string_view value) {
              auto session = storage::open_sealed(*txn, kDeviceScope, key, value);
              if (session) {
                out.push_back({sender_key, std::string(key.substr(prefix.size())),
                               std::move(*session)});
              }
              return true;
            });
  return out;
}

Status E2eeStore::put_olm_session(const StoredOlmSession& s, const StoredAccount* account) {
  return check(store_.run([&](storage::WriteTxn& txn) {
    if (account) {
      if (auto st = put_account_in(txn, *account); !st.ok()) return st;
    }
    return put_sealed(txn, kDeviceScope, olm_key(s.sender_key, s.session_id), s.session);
  }));
}

std::optional<StoredGroupSession> E2eeStore::group_session(const std::string& room_id,
                                                           const std::string& session_id) const {
  auto txn = store_.begin_read();
  if (!txn) return std::nullopt;
  auto v = get_sealed(*txn, room_id, group_prefix(room_id) + session_id);
  if (!v) return std::nullopt;
  auto d = json::parse_trusted(*v);
  if (!d.IsObject()) return std::nullopt;
  auto session = crypto::base64_decode(json::get_string(d, "session"));
  if (!session) return std::nullopt;
  return StoredGroupSession{room_id, session_id, json::get_string(d, "sender"),
                            json::get_string(d, "sender_key"), std::move(*session)};
}

Status E2eeStore::put_group_session(const StoredGroupSession& g) {
  return check(store_.run([&g](storage::WriteTxn& txn) {
    return put_sealed(txn, g.room_id, group_prefix(g.room_id) + g.session_id, encode_group(g));
  }));
}

Status E2eeStore::park(const std::string& room_id, const std::string& event_json) {
  return check(store_.run([&](storage::WriteTxn& txn) {
    const std::string prefix = parked_prefix(room_id);
    std::vector<std::string> keys;
    txn.scan(Table::kCareE2ee, prefix, "", storage::Direction::kForward,
             [&](std::string_view key, std::string_view) {
               keys.emplace_back(key);
               return true;
             });
    for (size_t i = 0; i + kMaxParkedPerRoom <= keys.size(); ++i) {
      if (auto s = txn.del(Table::kCareE2ee, keys[i]); !s.ok()) return s;
    }
    uint64_t seq = txn.next_counter("care_parked_events");
    return put_sealed(txn, room_id, KeyBuilder().tail(prefix).u64(seq).take(), event_json);
  }));
}

std::vector<ParkedEvent> E2eeStore::parked(const std::string& room_id) const {
  std::vector<ParkedEvent> out;
  auto txn = store_.begin_read();
  if (!txn) return out;
  const std::string prefix = parked_prefix(room_id);
  txn->scan(Table::kCareE2ee, prefix, "", storage::Direction::kForward,
            [&](std::string_view key, std::string_view value) {
              KeyReader r(key.substr(prefix.size()));
              auto seq = r.u64();
              auto event = storage::open_sealed(*txn, room_id, key, value);
              if (seq && event) out.push_back({*seq, std::move(*event)});
              return true;
            });
  return out;
}

Status E2eeStore::unpark(const std::string& room_id, const std::vector<uint64_t>& seqs) {
  return check(store_.run([&](storage::WriteTxn& txn) {
    for (uint64_t seq : seqs) {
      auto s = txn.del(Table::kCareE2ee, KeyBuilder().tail(parked_prefix(room_id)).u64(seq).take());
      if (!s.ok()) return s;
    }
    return storage::Status::ok_status();
  }));
}

Status E2eeStore::forget_room(const std::string& room_id) {
  return check(store_.run([&room_id](storage::WriteTxn& txn) {
    if (auto s = txn.destroy_at_rest_key(room_id); !s.ok()) return s;
    if (auto s = txn.del_prefix(Table::kCareE2ee, group_prefix(room_id)); !s.ok()) return s;
    return txn.del_prefix(Table::kCareE2ee, parked_prefix(room_id));
  }));
}

}  // namespace haven::care
