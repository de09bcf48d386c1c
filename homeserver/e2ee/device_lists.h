// The device-list stream: which users' devices or keys changed, at which position, and what
// /sync and /keys/changes report to a user from it (device_lists.changed / left). Reads take a
// ReadTxn (any thread); mark_device_list_changed runs inside a Store job (writer thread).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storage/store.h"

namespace haven::e2ee {

// The newest position of the device-list stream (0 before any change).
uint64_t device_lists_pos(storage::ReadTxn& txn);

// Records that `user_id`'s devices or keys changed: a new stream position.
storage::Status mark_device_list_changed(storage::WriteTxn& txn, const std::string& user_id);

struct DeviceListDelta {
  std::vector<std::string> changed;
  std::vector<std::string> left;
};

// What `user_id` must hear about since a sync token: `since` is its device_lists position and
// `since_events` its events position (joins and leaves are in the events stream).
// changed: users joined to a room with `user_id` (the user included) whose devices or keys
// changed after `since`, and users with whom a room became shared after `since_events`.
// left: users who share no room with `user_id` any more and stopped sharing one after
// `since_events`. Sorted, no duplicates.
DeviceListDelta device_lists_since(storage::ReadTxn& txn, const std::string& user_id,
                                   uint64_t since, uint64_t since_events);

// Deletes every key of the device (identity, one-time, fallback, signatures on it) and its
// to-device inbox, and marks the user's device list changed: for device deletion and logout.
storage::Status forget_device_keys(storage::WriteTxn& txn, const std::string& user_id,
                                   const std::string& device_id);

}  // namespace haven::e2ee
