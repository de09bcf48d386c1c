// kKeyBackupVersions holds user \0 u64 version -> {"algorithm", "auth_data", "count", "etag"},
// or {"deleted": true} for a deleted version (a tombstone: its number stays taken).
// kKeyBackupKeys holds user \0 u64 version, room \0 session -> RoomKey JSON.
#include "homeserver/e2ee/key_backup.h"

#include <charconv>

#include "homeserver/base/json.h"
#include "storage/keys.h"

namespace haven::e2ee {

namespace {

using storage::KeyBuilder;
using storage::KeyReader;
using storage::Table;

std::string version_key(std::string_view user_id, uint64_t version) {
  return KeyBuilder().str(user_id).u64(version).take();
}

// Keys of one version, optionally narrowed to a room (then a key prefix) or one session.
std::string keys_prefix(std::string_view user_id, uint64_t version,
                        const std::optional<std::string>& room_id) {
  KeyBuilder b;
  b.str(user_id).u64(version);
  if (room_id) b.str(*room_id);
  return b.take();
}

std::string key_of(std::string_view user_id, uint64_t version, std::string_view room_id,
                   std::string_view session_id) {
  return KeyBuilder().str(user_id).u64(version).str(room_id).tail(session_id).take();
}

Error storage_failure(const storage::Status& s) {
  return Error::unknown("Storage error: " + s.message());
}

Error unknown_version() { return Error::not_found("Unknown backup version"); }

std::optional<BackupVersion> decode_version(uint64_t version, std::string_view text) {
  auto d = json::parse_trusted(text);
  if (!d.IsObject() || json::get_bool(d, "deleted")) return std::nullopt;
  BackupVersion v;
  v.version = version;
  v.algorithm = json::get_string(d, "algorithm");
  auto auth = d.FindMember("auth_data");
  v.auth_data_json = auth != d.MemberEnd() ? json::to_string(auth->value) : "{}";
  v.count = json::get_int(d, "count");
  v.etag = static_cast<uint64_t>(json::get_int(d, "etag"));
  return v;
}

storage::Status put_version(storage::WriteTxn& txn, std::string_view user_id,
                            const BackupVersion& v) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "algorithm", v.algorithm, a);
  json::Document auth = json::parse_trusted(v.auth_data_json);
  json::Value auth_copy(auth, a);
  json::set(d, "auth_data", std::move(auth_copy), a);
  json::set(d, "count", v.count, a);
  json::set(d, "etag", static_cast<int64_t>(v.etag), a);
  return txn.put(Table::kKeyBackupVersions, version_key(user_id, v.version), json::to_string(d));
}

// The version to change keys in: it must exist and not be deleted.
Result<BackupVersion> live_version(storage::ReadTxn& txn, std::string_view user_id,
                                   uint64_t version) {
  auto v = get_backup(txn, user_id, version);
  if (!v) return unknown_version();
  return std::move(*v);
}

BackupCounts counts_of(const BackupVersion& v) { return {v.count, std::to_string(v.etag)}; }

}  // namespace

std::string version_string(uint64_t version) { return std::to_string(version); }

std::optional<uint64_t> parse_version(std::string_view text) {
  // Only the canonical decimal form this server hands out: no sign, no leading zero.
  if (text.empty() || text.size() > 19 || text[0] == '0') return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<BackupVersion> latest_backup(storage::ReadTxn& txn, std::string_view user_id) {
  std::optional<BackupVersion> found;
  std::string prefix = KeyBuilder().str(user_id).take();
  txn.scan(Table::kKeyBackupVersions, prefix, {}, storage::Direction::kBackward,
           [&](std::string_view key, std::string_view value) {
             KeyReader r(key.substr(prefix.size()));
             auto version = r.u64();
             if (!version || !r.done()) return true;
             found = decode_version(*version, value);
             return !found;
           });
  return found;
}

std::optional<BackupVersion> get_backup(storage::ReadTxn& txn, std::string_view user_id,
                                        uint64_t version) {
  auto v = txn.get(Table::kKeyBackupVersions, version_key(user_id, version));
  if (!v) return std::nullopt;
  return decode_version(version, *v);
}

Result<BackupVersion> create_backup(storage::WriteTxn& txn, std::string_view user_id,
                                    std::string_view algorithm, std::string_view auth_data_json) {
  uint64_t last = 0;
  std::string prefix = KeyBuilder().str(user_id).take();
  txn.scan(Table::kKeyBackupVersions, prefix, {}, storage::Direction::kBackward,
           [&](std::string_view key, std::string_view) {
             KeyReader r(key.substr(prefix.size()));
             auto version = r.u64();
             if (!version || !r.done()) return true;
             last = *version;
             return false;
           });
  BackupVersion v;
  v.version = last + 1;
  v.algorithm = std::string(algorithm);
  v.auth_data_json = std::string(auth_data_json);
  if (auto s = put_version(txn, user_id, v); !s.ok()) return storage_failure(s);
  return v;
}

Status update_backup(storage::WriteTxn& txn, std::string_view user_id, uint64_t version,
                     std::string_view algorithm, std::string_view auth_data_json) {
  auto v = live_version(txn, user_id, version);
  if (!v.ok()) return v.error();
  if (v->algorithm != algorithm) {
    return Error::invalid_param("Algorithm does not match the backup's");
  }
  v->auth_data_json = std::string(auth_data_json);
  if (auto s = put_version(txn, user_id, *v); !s.ok()) return storage_failure(s);
  return {};
}

Status delete_backup(storage::WriteTxn& txn, std::string_view user_id, uint64_t version) {
  std::string key = version_key(user_id, version);
  if (!txn.get(Table::kKeyBackupVersions, key)) return unknown_version();
  if (auto s = txn.del_prefix(Table::kKeyBackupKeys, keys_prefix(user_id, version, std::nullopt));
      !s.ok()) {
    return storage_failure(s);
  }
  if (auto s = txn.put(Table::kKeyBackupVersions, key, R"({"deleted":true})"); !s.ok()) {
    return storage_failure(s);
  }
  return {};
}

std::string RoomKey::to_json() const {
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "first_message_index", first_message_index, a);
  json::set(d, "forwarded_count", forwarded_count, a);
  json::set(d, "is_verified", is_verified, a);
  json::Document data = json::parse_trusted(session_data_json);
  json::Value copy(data, a);
  json::set(d, "session_data", std::move(copy), a);
  return json::to_string(d);
}

std::optional<RoomKey> RoomKey::from_json(std::string_view text) {
  auto d = json::parse_trusted(text);
  if (!d.IsObject()) return std::nullopt;
  RoomKey k;
  k.first_message_index = json::get_int(d, "first_message_index");
  k.forwarded_count = json::get_int(d, "forwarded_count");
  k.is_verified = json::get_bool(d, "is_verified");
  auto data = d.FindMember("session_data");
  k.session_data_json = data != d.MemberEnd() ? json::to_string(data->value) : "{}";
  return k;
}

bool replaces(const RoomKey& incoming, const RoomKey& held) {
  if (incoming.is_verified != held.is_verified) return incoming.is_verified;
  if (incoming.first_message_index != held.first_message_index) {
    return incoming.first_message_index < held.first_message_index;
  }
  return incoming.forwarded_count < held.forwarded_count;
}

Result<BackupCounts> put_room_keys(storage::WriteTxn& txn, std::string_view user_id,
                                   uint64_t version, const std::vector<RoomKeyUpload>& keys,
                                   int64_t max_keys) {
  auto v = get_backup(txn, user_id, version);
  if (!v) return unknown_version();
  auto latest = latest_backup(txn, user_id);
  if (latest && latest->version != version) {
    Error e = Error::with(403, "M_WRONG_ROOM_KEYS_VERSION", "Wrong backup version");
    e.extra_json = "\"current_version\":\"" + version_string(latest->version) + "\"";
    return e;
  }
  bool changed = false;
  for (const RoomKeyUpload& up : keys) {
    std::string key = key_of(user_id, version, up.room_id, up.session_id);
    if (auto old = txn.get(Table::kKeyBackupKeys, key)) {
      auto held = RoomKey::from_json(*old);
      if (held && !replaces(up.key, *held)) continue;
    } else {
      v->count += 1;
    }
    if (auto s = txn.put(Table::kKeyBackupKeys, key, up.key.to_json()); !s.ok()) {
      return storage_failure(s);
    }
    changed = true;
  }
  if (v->count > max_keys) {
    return Error::too_large("A backup may hold at most " + std::to_string(max_keys) + " keys");
  }
  if (changed) {
    v->etag += 1;
    if (auto s = put_version(txn, user_id, *v); !s.ok()) return storage_failure(s);
  }
  return counts_of(*v);
}

Result<BackupCounts> delete_room_keys(storage::WriteTxn& txn, std::string_view user_id,
                                      uint64_t version, const std::optional<std::string>& room_id,
                                      const std::optional<std::string>& session_id) {
  auto v = live_version(txn, user_id, version);
  if (!v.ok()) return v.error();
  std::vector<std::string> doomed;
  if (room_id && session_id) {
    std::string key = key_of(user_id, version, *room_id, *session_id);
    if (txn.get(Table::kKeyBackupKeys, key)) doomed.push_back(std::move(key));
  } else {
    std::string prefix = keys_prefix(user_id, version, room_id);
    txn.scan(Table::kKeyBackupKeys, prefix, {}, storage::Direction::kForward,
             [&](std::string_view key, std::string_view) {
               doomed.emplace_back(key);
               return true;
             });
  }
  for (const std::string& key : doomed) {
    if (auto s = txn.del(Table::kKeyBackupKeys, key); !s.ok()) return storage_failure(s);
  }
  if (!doomed.empty()) {
    v->count = std::max<int64_t>(0, v->count - static_cast<int64_t>(doomed.size()));
    v->etag += 1;
    if (auto s = put_version(txn, user_id, *v); !s.ok()) return storage_failure(s);
  }
  return counts_of(*v);
}

Status delete_room_from_all_backups(storage::WriteTxn& txn, std::string_view room_id) {
  std::vector<std::pair<std::string, uint64_t>> holders;  // (user, version), each once
  txn.scan(
      Table::kKeyBackupKeys, {}, {}, storage::Direction::kForward,
      [&](std::string_view key, std::string_view) {
        KeyReader r(key);
        auto user = r.str();
        auto version = r.u64();
        auto room = r.str();
        if (!user || !version || !room || *room != room_id) return true;
        if (holders.empty() || holders.back().first != *user || holders.back().second != *version) {
          holders.emplace_back(std::string(*user), *version);
        }
        return true;
      });
  for (const auto& [user, version] : holders) {
    auto r = delete_room_keys(txn, user, version, std::string(room_id), std::nullopt);
    if (!r.ok() && r.error().status >= 500) return r.error();
    if (!r.ok()) {  // a deleted version's keys: no counts to keep
      auto s =
          txn.del_prefix(Table::kKeyBackupKeys, keys_prefix(user, version, std::string(room_id)));
      if (!s.ok()) return storage_failure(s);
    }
  }
  return {};
}

Result<std::vector<StoredRoomKey>> get_room_keys(storage::ReadTxn& txn, std::string_view user_id,
                                                 uint64_t version,
                                                 const std::optional<std::string>& room_id,
                                                 const std::optional<std::string>& session_id) {
  if (!get_backup(txn, user_id, version)) return unknown_version();
  std::vector<StoredRoomKey> out;
  if (room_id && session_id) {
    if (auto v = txn.get(Table::kKeyBackupKeys, key_of(user_id, version, *room_id, *session_id))) {
      out.push_back({*room_id, *session_id, std::string(*v)});
    }
    return out;
  }
  std::string version_prefix = keys_prefix(user_id, version, std::nullopt);
  std::string prefix = keys_prefix(user_id, version, room_id);
  txn.scan(Table::kKeyBackupKeys, prefix, {}, storage::Direction::kForward,
           [&](std::string_view key, std::string_view value) {
             KeyReader r(key.substr(version_prefix.size()));
             auto room = r.str();
             if (!room) return true;
             out.push_back({std::string(*room), std::string(r.tail()), std::string(value)});
             return true;
           });
  return out;
}

}  // namespace haven::e2ee
