// The end-to-end encryption key store of devices: signed device identity keys, one-time keys
// and fallback keys, as the stored JSON texts clients uploaded. Reads take a ReadTxn (any
// thread); writes take a WriteTxn (the storage writer thread, inside one Store job, which is
// what makes a claim hand a one-time key out exactly once). No HTTP, no request validation.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "homeserver/base/result.h"
#include "storage/store.h"

namespace haven::e2ee {

// One uploaded one-time or fallback key: "<algorithm>:<key_id>" split, and the canonical JSON
// text of its value (a string for curve25519, an object for signed_curve25519).
struct KeyEntry {
  std::string algorithm;
  std::string key_id;
  std::string json;
};

// A claimed key: "<algorithm>:<key_id>" and its JSON text.
struct ClaimedKey {
  std::string full_key_id;
  std::string json;
  bool fallback = false;
};

// --- device identity keys ------------------------------------------------------------------
std::optional<std::string> get_device_keys(storage::ReadTxn& txn, std::string_view user_id,
                                           std::string_view device_id);
// (device_id, JSON text) of every device of the user that uploaded keys.
std::vector<std::pair<std::string, std::string>> device_keys_of_user(storage::ReadTxn& txn,
                                                                     std::string_view user_id);
storage::Status put_device_keys(storage::WriteTxn& txn, std::string_view user_id,
                                std::string_view device_id, std::string_view json);

// --- one-time keys -------------------------------------------------------------------------
// Stores new one-time keys. A key id already held with the same content is kept as it is; with
// other content the whole call fails with M_INVALID_PARAM (the caller's job rolls back).
Status add_one_time_keys(storage::WriteTxn& txn, std::string_view user_id,
                         std::string_view device_id, const std::vector<KeyEntry>& keys);
// For each algorithm, how many unclaimed one-time keys the device has (absent = 0).
std::map<std::string, int64_t> one_time_key_counts(storage::ReadTxn& txn, std::string_view user_id,
                                                   std::string_view device_id);

// --- fallback keys -------------------------------------------------------------------------
// Replaces the device's fallback key for the entry's algorithm (one per algorithm). The same
// key uploaded again keeps its "used" mark.
storage::Status put_fallback_key(storage::WriteTxn& txn, std::string_view user_id,
                                 std::string_view device_id, const KeyEntry& key);
// Algorithms for which the device has a fallback key that no claim has handed out yet.
std::vector<std::string> unused_fallback_key_types(storage::ReadTxn& txn, std::string_view user_id,
                                                   std::string_view device_id);

// --- claiming ------------------------------------------------------------------------------
// Hands out one one-time key of `algorithm` and deletes it; when none is left, the fallback
// key of that algorithm (marked used, not deleted). nullopt when the device has neither.
std::optional<ClaimedKey> claim_key(storage::WriteTxn& txn, std::string_view user_id,
                                    std::string_view device_id, std::string_view algorithm,
                                    storage::Status* status);

// Deletes the device's identity, one-time and fallback keys and signatures made on them.
storage::Status delete_device_keys(storage::WriteTxn& txn, std::string_view user_id,
                                   std::string_view device_id);

}  // namespace haven::e2ee
