// Device key tables: kDeviceKeys (user \0 device -> JSON), kOneTimeKeys (user \0 device \0
// algorithm \0 key_id -> JSON of the key) and kFallbackKeys (user \0 device \0 algorithm ->
// {"key_id", "key", "used"}).
#include "homeserver/e2ee/device_keys.h"

#include "crypto/canonical_json.h"
#include "homeserver/base/json.h"
#include "homeserver/e2ee/cross_signing.h"
#include "storage/keys.h"

namespace haven::e2ee {

namespace {

using storage::KeyBuilder;
using storage::KeyReader;
using storage::Table;

std::string device_prefix(std::string_view user_id, std::string_view device_id) {
  return KeyBuilder().str(user_id).str(device_id).take();
}

std::string fallback_record(const KeyEntry& key, bool used) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "key_id", key.key_id, a);
  json::Document parsed = json::parse_trusted(key.json);
  json::Value copy(parsed, a);
  json::set(d, "key", std::move(copy), a);
  json::set(d, "used", used, a);
  return json::to_string(d);
}

}  // namespace

std::optional<std::string> get_device_keys(storage::ReadTxn& txn, std::string_view user_id,
                                           std::string_view device_id) {
  auto v = txn.get(Table::kDeviceKeys, KeyBuilder().str(user_id).tail(device_id).build());
  if (!v) return std::nullopt;
  return std::string(*v);
}

std::vector<std::pair<std::string, std::string>> device_keys_of_user(storage::ReadTxn& txn,
                                                                     std::string_view user_id) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string prefix = KeyBuilder().str(user_id).take();
  txn.scan(Table::kDeviceKeys, prefix, {}, storage::Direction::kForward,
           [&](std::string_view key, std::string_view value) {
             out.emplace_back(std::string(key.substr(prefix.size())), std::string(value));
             return true;
           });
  return out;
}

storage::Status put_device_keys(storage::WriteTxn& txn, std::string_view user_id,
                                std::string_view device_id, std::string_view json) {
  return txn.put(Table::kDeviceKeys, KeyBuilder().str(user_id).tail(device_id).build(), json);
}

Status add_one_time_keys(storage::WriteTxn& txn, std::string_view user_id,
                         std::string_view device_id, const std::vector<KeyEntry>& keys) {
  std::string prefix = device_prefix(user_id, device_id);
  for (const KeyEntry& k : keys) {
    std::string key = KeyBuilder().tail(prefix).str(k.algorithm).tail(k.key_id).take();
    if (auto old = txn.get(Table::kOneTimeKeys, key)) {
      if (*old == k.json) continue;
      return Error::invalid_param("One time key " + k.algorithm + ":" + k.key_id +
                                  " already exists with different content");
    }
    if (auto s = txn.put(Table::kOneTimeKeys, key, k.json); !s.ok()) {
      return Error::unknown("Storage error: " + s.message());
    }
  }
  return {};
}

std::map<std::string, int64_t> one_time_key_counts(storage::ReadTxn& txn, std::string_view user_id,
                                                   std::string_view device_id) {
  std::map<std::string, int64_t> counts;
  std::string prefix = device_prefix(user_id, device_id);
  txn.scan(Table::kOneTimeKeys, prefix, {}, storage::Direction::kForward,
           [&](std::string_view key, std::string_view) {
             KeyReader r(key.substr(prefix.size()));
             if (auto alg = r.str()) counts[std::string(*alg)] += 1;
             return true;
           });
  return counts;
}

storage::Status put_fallback_key(storage::WriteTxn& txn, std::string_view user_id,
                                 std::string_view device_id, const KeyEntry& key) {
  std::string k = KeyBuilder().str(user_id).str(device_id).tail(key.algorithm).take();
  bool used = false;
  if (auto old = txn.get(Table::kFallbackKeys, k)) {
    auto d = json::parse_trusted(*old);
    auto held = d.IsObject() ? d.FindMember("key") : d.MemberEnd();
    if (held != d.MemberEnd() && json::get_string(d, "key_id") == key.key_id &&
        crypto::canonical_json(held->value).value_or("") == key.json) {
      used = json::get_bool(d, "used");
    }
  }
  return txn.put(Table::kFallbackKeys, k, fallback_record(key, used));
}

std::vector<std::string> unused_fallback_key_types(storage::ReadTxn& txn, std::string_view user_id,
                                                   std::string_view device_id) {
  std::vector<std::string> out;
  std::string prefix = device_prefix(user_id, device_id);
  txn.scan(Table::kFallbackKeys, prefix, {}, storage::Direction::kForward,
           [&](std::string_view key, std::string_view value) {
             auto d = json::parse_trusted(value);
             if (d.IsObject() && !json::get_bool(d, "used")) {
               out.emplace_back(key.substr(prefix.size()));
             }
             return true;
           });
  return out;
}

std::optional<ClaimedKey> claim_key(storage::WriteTxn& txn, std::string_view user_id,
                                    std::string_view device_id, std::string_view algorithm,
                                    storage::Status* status) {
  *status = storage::Status::ok_status();
  std::string prefix = KeyBuilder().str(user_id).str(device_id).str(algorithm).take();
  std::optional<std::pair<std::string, ClaimedKey>> found;
  txn.scan(Table::kOneTimeKeys, prefix, {}, storage::Direction::kForward,
           [&](std::string_view key, std::string_view value) {
             found.emplace(std::string(key), ClaimedKey{std::string(algorithm) + ":" +
                                                            std::string(key.substr(prefix.size())),
                                                        std::string(value), false});
             return false;
           });
  if (found) {
    *status = txn.del(Table::kOneTimeKeys, found->first);
    if (!status->ok()) return std::nullopt;
    return std::move(found->second);
  }
  std::string fb_key = KeyBuilder().str(user_id).str(device_id).tail(algorithm).take();
  auto fb = txn.get(Table::kFallbackKeys, fb_key);
  if (!fb) return std::nullopt;
  auto d = json::parse_trusted(*fb);
  if (!d.IsObject() || !d.HasMember("key")) return std::nullopt;
  ClaimedKey claimed{std::string(algorithm) + ":" + json::get_string(d, "key_id"),
                     json::to_string(d["key"]), true};
  if (!json::get_bool(d, "used")) {
    d["used"].SetBool(true);
    *status = txn.put(Table::kFallbackKeys, fb_key, json::to_string(d));
    if (!status->ok()) return std::nullopt;
  }
  return claimed;
}

storage::Status delete_device_keys(storage::WriteTxn& txn, std::string_view user_id,
                                   std::string_view device_id) {
  std::string prefix = device_prefix(user_id, device_id);
  if (auto s = txn.del(Table::kDeviceKeys, KeyBuilder().str(user_id).tail(device_id).build());
      !s.ok()) {
    return s;
  }
  if (auto s = txn.del_prefix(Table::kOneTimeKeys, prefix); !s.ok()) return s;
  if (auto s = txn.del_prefix(Table::kFallbackKeys, prefix); !s.ok()) return s;
  return delete_signatures_of(txn, user_id, device_id);
}

}  // namespace haven::e2ee
