// Users, devices and access tokens as stored records: reads take a ReadTxn (any thread),
// writes take a WriteTxn (writer thread, inside a Store job). No Matrix rules beyond the
// shape of the records; the client handlers decide who may do what.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/store.h"

namespace haven::accounts {

struct User {
  std::string user_id;
  std::string password_hash;  // argon2id; empty = no password login
  bool admin = false;
  bool deactivated = false;
  bool is_guest = false;
  std::string displayname;
  std::string avatar_url;
  std::string email;  // for new-message notices: admin API, or validated by /account/3pid
  int64_t email_added_ts = 0;  // when `email` was set (the 3PID's added_at / validated_at)
  int64_t creation_ts = 0;
  std::string user_type;  // "" (a regular user), "bot" or "support": set by the admin API
};

struct Device {
  std::string user_id;
  std::string device_id;
  std::string display_name;
  std::string token_hash;  // the device's current access token (sha256, raw)
  int64_t last_seen_ts = 0;
  std::string last_seen_ip;
  std::string last_seen_user_agent;
};

struct TokenOwner {
  std::string user_id;
  std::string device_id;
  int64_t expires_ts = 0;  // 0 = never
};

// Reads.
std::optional<User> get_user(storage::ReadTxn& txn, std::string_view user_id);
// True when a user with this localpart exists, compared case-insensitively.
bool localpart_taken(storage::ReadTxn& txn, std::string_view localpart);
std::optional<Device> get_device(storage::ReadTxn& txn, std::string_view user_id,
                                 std::string_view device_id);
std::vector<Device> list_devices(storage::ReadTxn& txn, std::string_view user_id);
std::optional<TokenOwner> lookup_token(storage::ReadTxn& txn, std::string_view token);
std::vector<std::string> all_user_ids(storage::ReadTxn& txn);
// Every user record, by user id.
std::vector<User> all_users(storage::ReadTxn& txn);
// The users whose email address is `email` (compared case-insensitively).
std::vector<std::string> users_with_email(storage::ReadTxn& txn, std::string_view email);

// Writes (writer thread).
// Stores the user record and keeps the localpart and email indexes in step with it.
storage::Status put_user(storage::WriteTxn& txn, const User& user);
// Creates or replaces the device and issues `token` for it (the old token stops working).
storage::Status put_device_with_token(storage::WriteTxn& txn, Device device,
                                      std::string_view token, int64_t expires_ts);
storage::Status put_device(storage::WriteTxn& txn, const Device& device);
// Deletes the device and its token.
storage::Status delete_device(storage::WriteTxn& txn, std::string_view user_id,
                              std::string_view device_id);
storage::Status delete_all_devices(storage::WriteTxn& txn, std::string_view user_id,
                                   std::optional<std::string_view> except_device = {});

// Indexes the addresses of users stored before the email index existed; a no-op once done.
// For start-up.
storage::Status build_email_index_once(storage::WriteTxn& txn);

std::string token_hash(std::string_view token);

}  // namespace haven::accounts
