#include "federation/key_store.h"

#include "crypto/base64.h"
#include "homeserver/base/json.h"
#include "storage/keys.h"

namespace haven::federation {
namespace {

using storage::Table;

std::string server_key_key(std::string_view server_name, std::string_view key_id) {
  return storage::KeyBuilder().str(server_name).tail(key_id).take();
}

std::string key_record(const KnownKey& key) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "key", crypto::base64_encode(key.public_key), a);
  json::set(d, "valid_until_ts", key.valid_until_ts, a);
  json::set(d, "expired_ts", key.expired_ts, a);
  return json::to_string(d);
}

std::optional<KnownKey> parse_key_record(std::string_view text) {
  auto d = json::parse_trusted(text);
  if (!d.IsObject()) return std::nullopt;
  auto raw = crypto::base64_decode(json::get_string(d, "key"));
  if (!raw || raw->size() != 32) return std::nullopt;
  return KnownKey{std::move(*raw), json::get_int(d, "valid_until_ts"),
                  json::get_int(d, "expired_ts")};
}

}  // namespace

std::optional<KnownKey> get_server_key(storage::ReadTxn& txn, std::string_view server_name,
                                       std::string_view key_id) {
  auto value = txn.get(Table::kServerKeys, server_key_key(server_name, key_id));
  if (!value) return std::nullopt;
  return parse_key_record(*value);
}

std::optional<StoredKeyObject> get_key_object(storage::ReadTxn& txn, std::string_view server_name) {
  auto value = txn.get(Table::kServerKeyObjects, server_name);
  if (!value) return std::nullopt;
  auto d = json::parse_trusted(*value);
  if (!d.IsObject()) return std::nullopt;
  return StoredKeyObject{json::get_int(d, "fetched_ts"), json::get_int(d, "valid_until_ts"),
                         json::get_string(d, "object")};
}

storage::Status put_server_keys(storage::WriteTxn& txn, const ServerKeys& keys,
                                int64_t fetched_ts) {
  for (const auto& [key_id, key] : keys.keys) {
    auto s = txn.put(Table::kServerKeys, server_key_key(keys.server_name, key_id), key_record(key));
    if (!s.ok()) return s;
  }
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "fetched_ts", fetched_ts, a);
  json::set(d, "valid_until_ts", keys.valid_until_ts, a);
  json::set(d, "object", keys.json, a);
  return txn.put(Table::kServerKeyObjects, keys.server_name, json::to_string(d));
}

std::vector<OldOwnKey> own_old_keys(storage::ReadTxn& txn) {
  std::vector<OldOwnKey> out;
  txn.scan(Table::kOwnSigningKeys, "", "", storage::Direction::kForward,
           [&](std::string_view key_id, std::string_view value) {
             auto record = parse_key_record(value);
             if (record && record->expired_ts != 0) {
               out.push_back({std::string(key_id), record->public_key, record->expired_ts});
             }
             return true;
           });
  return out;
}

storage::Status record_own_key(storage::WriteTxn& txn, const crypto::SigningKey& key,
                               int64_t now_ms) {
  std::vector<std::pair<std::string, KnownKey>> replaced;
  txn.scan(Table::kOwnSigningKeys, "", "", storage::Direction::kForward,
           [&](std::string_view key_id, std::string_view value) {
             auto record = parse_key_record(value);
             if (record && record->expired_ts == 0 && key_id != key.key_id()) {
               replaced.emplace_back(std::string(key_id), std::move(*record));
             }
             return true;
           });
  for (auto& [key_id, record] : replaced) {
    record.expired_ts = now_ms;
    auto s = txn.put(Table::kOwnSigningKeys, key_id, key_record(record));
    if (!s.ok()) return s;
  }
  return txn.put(Table::kOwnSigningKeys, key.key_id(), key_record({key.public_key(), 0, 0}));
}

}  // namespace haven::federation
