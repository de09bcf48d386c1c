#include "homeserver/accounts/account_store.h"

#include <algorithm>

#include "crypto/hash.h"
#include "homeserver/base/json.h"
#include "storage/keys.h"

namespace haven::accounts {

using storage::KeyBuilder;
using storage::Table;

namespace {
std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string localpart(std::string_view user_id) {
  auto colon = user_id.find(':');
  return std::string(user_id.substr(1, colon == std::string_view::npos ? 0 : colon - 1));
}

std::string encode_user(const User& u) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "user_id", u.user_id, a);
  json::set(d, "password_hash", u.password_hash, a);
  json::set(d, "admin", u.admin, a);
  json::set(d, "deactivated", u.deactivated, a);
  json::set(d, "is_guest", u.is_guest, a);
  json::set(d, "displayname", u.displayname, a);
  json::set(d, "avatar_url", u.avatar_url, a);
  if (!u.email.empty()) json::set(d, "email", u.email, a);
  if (u.email_added_ts) json::set(d, "email_added_ts", u.email_added_ts, a);
  json::set(d, "creation_ts", u.creation_ts, a);
  if (!u.user_type.empty()) json::set(d, "user_type", u.user_type, a);
  return json::to_string(d);
}

User decode_user(std::string_view text) {
  auto d = json::parse_trusted(text);
  User u;
  u.user_id = json::get_string(d, "user_id");
  u.password_hash = json::get_string(d, "password_hash");
  u.admin = json::get_bool(d, "admin");
  u.deactivated = json::get_bool(d, "deactivated");
  u.is_guest = json::get_bool(d, "is_guest");
  u.displayname = json::get_string(d, "displayname");
  u.avatar_url = json::get_string(d, "avatar_url");
  u.email = json::get_string(d, "email");
  u.email_added_ts = json::get_int(d, "email_added_ts");
  u.creation_ts = json::get_int(d, "creation_ts");
  u.user_type = json::get_string(d, "user_type");
  return u;
}

std::string encode_device(const Device& dev) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "user_id", dev.user_id, a);
  json::set(d, "device_id", dev.device_id, a);
  json::set(d, "display_name", dev.display_name, a);
  json::set(d, "token_hash", crypto::to_hex(dev.token_hash), a);
  json::set(d, "last_seen_ts", dev.last_seen_ts, a);
  json::set(d, "last_seen_ip", dev.last_seen_ip, a);
  if (!dev.last_seen_user_agent.empty()) {
    json::set(d, "last_seen_user_agent", dev.last_seen_user_agent, a);
  }
  return json::to_string(d);
}

std::string from_hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

Device decode_device(std::string_view text) {
  auto d = json::parse_trusted(text);
  Device dev;
  dev.user_id = json::get_string(d, "user_id");
  dev.device_id = json::get_string(d, "device_id");
  dev.display_name = json::get_string(d, "display_name");
  dev.token_hash = from_hex(json::get_string(d, "token_hash"));
  dev.last_seen_ts = json::get_int(d, "last_seen_ts");
  dev.last_seen_ip = json::get_string(d, "last_seen_ip");
  dev.last_seen_user_agent = json::get_string(d, "last_seen_user_agent");
  return dev;
}

std::string device_key(std::string_view user_id, std::string_view device_id) {
  return KeyBuilder().str(user_id).tail(device_id).take();
}

std::string email_key(std::string_view email, std::string_view user_id) {
  return KeyBuilder().str(lower(email)).tail(user_id).take();
}
}  // namespace

std::string token_hash(std::string_view token) { return crypto::sha256(token); }

std::optional<User> get_user(storage::ReadTxn& txn, std::string_view user_id) {
  auto v = txn.get(Table::kUsers, user_id);
  if (!v) return std::nullopt;
  return decode_user(*v);
}

bool localpart_taken(storage::ReadTxn& txn, std::string_view lp) {
  return txn.get(Table::kUserByLower, lower(lp)).has_value();
}

std::optional<Device> get_device(storage::ReadTxn& txn, std::string_view user_id,
                                 std::string_view device_id) {
  auto v = txn.get(Table::kDevices, device_key(user_id, device_id));
  if (!v) return std::nullopt;
  return decode_device(*v);
}

std::vector<Device> list_devices(storage::ReadTxn& txn, std::string_view user_id) {
  std::vector<Device> out;
  txn.scan(Table::kDevices, KeyBuilder().str(user_id).build(), {}, storage::Direction::kForward,
           [&](std::string_view, std::string_view v) {
             out.push_back(decode_device(v));
             return true;
           });
  return out;
}

std::optional<TokenOwner> lookup_token(storage::ReadTxn& txn, std::string_view token) {
  auto v = txn.get(Table::kAccessTokens, token_hash(token));
  if (!v) return std::nullopt;
  auto d = json::parse_trusted(*v);
  return TokenOwner{json::get_string(d, "user_id"), json::get_string(d, "device_id"),
                    json::get_int(d, "expires_ts")};
}

std::vector<std::string> all_user_ids(storage::ReadTxn& txn) {
  std::vector<std::string> out;
  txn.scan(Table::kUsers, {}, {}, storage::Direction::kForward,
           [&](std::string_view k, std::string_view) {
             out.emplace_back(k);
             return true;
           });
  return out;
}

std::vector<User> all_users(storage::ReadTxn& txn) {
  std::vector<User> out;
  txn.scan(Table::kUsers, {}, {}, storage::Direction::kForward,
           [&](std::string_view, std::string_view v) {
             out.push_back(decode_user(v));
             return true;
           });
  return out;
}

std::vector<std::string> users_with_email(storage::ReadTxn& txn, std::string_view email) {
  std::vector<std::string> out;
  txn.scan(Table::kUserByEmail, KeyBuilder().str(lower(email)).build(), {},
           storage::Direction::kForward, [&](std::string_view key, std::string_view) {
             storage::KeyReader r(key);
             r.str();
             out.emplace_back(r.tail());
             return true;
           });
  return out;
}

storage::Status put_user(storage::WriteTxn& txn, const User& user) {
  std::string old_email;
  if (auto old = get_user(txn, user.user_id); old) old_email = old->email;
  if (lower(old_email) != lower(user.email)) {
    if (!old_email.empty()) {
      auto s = txn.del(Table::kUserByEmail, email_key(old_email, user.user_id));
      if (!s.ok()) return s;
    }
    if (!user.email.empty()) {
      auto s = txn.put(Table::kUserByEmail, email_key(user.email, user.user_id), "");
      if (!s.ok()) return s;
    }
  }
  auto s = txn.put(Table::kUsers, user.user_id, encode_user(user));
  if (!s.ok()) return s;
  return txn.put(Table::kUserByLower, lower(localpart(user.user_id)), user.user_id);
}

storage::Status build_email_index_once(storage::WriteTxn& txn) {
  constexpr std::string_view kDone = "email_index_built";
  if (txn.get(Table::kMeta, kDone)) return storage::Status::ok_status();
  for (const User& user : all_users(txn)) {
    if (user.email.empty()) continue;
    auto s = txn.put(Table::kUserByEmail, email_key(user.email, user.user_id), "");
    if (!s.ok()) return s;
  }
  return txn.put(Table::kMeta, kDone, "1");
}

storage::Status put_device(storage::WriteTxn& txn, const Device& device) {
  return txn.put(Table::kDevices, device_key(device.user_id, device.device_id),
                 encode_device(device));
}

storage::Status put_device_with_token(storage::WriteTxn& txn, Device device,
                                      std::string_view token, int64_t expires_ts) {
  if (auto old = get_device(txn, device.user_id, device.device_id); old) {
    if (!old->token_hash.empty()) {
      auto s = txn.del(Table::kAccessTokens, old->token_hash);
      if (!s.ok()) return s;
    }
  }
  device.token_hash = token_hash(token);
  auto owner = json::object();
  json::set(owner, "user_id", device.user_id, owner.GetAllocator());
  json::set(owner, "device_id", device.device_id, owner.GetAllocator());
  json::set(owner, "expires_ts", expires_ts, owner.GetAllocator());
  auto s = txn.put(Table::kAccessTokens, device.token_hash, json::to_string(owner));
  if (!s.ok()) return s;
  return put_device(txn, device);
}

storage::Status delete_device(storage::WriteTxn& txn, std::string_view user_id,
                              std::string_view device_id) {
  auto dev = get_device(txn, user_id, device_id);
  if (!dev) return storage::Status::ok_status();
  if (!dev->token_hash.empty()) {
    auto s = txn.del(Table::kAccessTokens, dev->token_hash);
    if (!s.ok()) return s;
  }
  return txn.del(Table::kDevices, device_key(user_id, device_id));
}

storage::Status delete_all_devices(storage::WriteTxn& txn, std::string_view user_id,
                                   std::optional<std::string_view> except_device) {
  for (const Device& d : list_devices(txn, user_id)) {
    if (except_device && d.device_id == *except_device) continue;
    auto s = delete_device(txn, user_id, d.device_id);
    if (!s.ok()) return s;
  }
  return storage::Status::ok_status();
}

}  // namespace haven::accounts
