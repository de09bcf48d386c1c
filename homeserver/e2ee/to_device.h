// Send-to-device inboxes: messages queued per recipient device in arrival order at a position of
// the to-device stream, read by /sync and deleted once a later sync acknowledges them, plus the
// senders' transaction ids that make a send idempotent. Reads take a ReadTxn (any thread);
// writes take a WriteTxn (the storage writer thread, inside one Store job). No HTTP.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "homeserver/base/result.h"
#include "storage/store.h"

namespace haven::e2ee {

// One addressee of a send: a local user, one of their device ids or "*" (every device they
// have when the message is stored), and the message content as JSON object text.
struct ToDeviceTarget {
  std::string user_id;
  std::string device_id;
  std::string content_json;
};

// One PUT /sendToDevice request, validated by the caller (ids without NUL, content objects).
struct ToDeviceSend {
  std::string sender;
  std::string sender_device;
  std::string type;
  std::string txn_id;
  std::vector<ToDeviceTarget> targets;
};

struct ToDeviceStored {
  bool duplicate = false;            // the transaction was stored before: nothing was done
  uint64_t pos = 0;                  // the stream position of this send (0 if nothing stored)
  size_t messages = 0;               // device inboxes that got a message
  std::set<std::string> recipients;  // users with at least one new message (to wake)
};

// The newest position of the to-device stream (0 before any message).
uint64_t to_device_pos(storage::ReadTxn& txn);

// Stores a send: one message per existing device named, all at one new stream position.
// Unknown users and devices are skipped. A device named both explicitly and through "*" gets
// the explicit content, once. More than `max_messages` device inboxes in all is M_TOO_LARGE
// (the caller's job then rolls back). The sender's (device, type, txn_id) is remembered, so the
// same send again returns duplicate and stores nothing.
Result<ToDeviceStored> store_to_device(storage::WriteTxn& txn, const ToDeviceSend& send,
                                       size_t max_messages);

// What /sync hands one device: messages after position `since` in order, as event JSON texts
// {"content", "sender", "type"}, at most `limit`. next_pos is the position the client
// acknowledges by presenting it as its next since: the last message returned when more are
// waiting (limited), else the stream position. A `since` beyond the stream is taken as the
// stream position.
struct ToDeviceInbox {
  std::vector<std::string> events;
  uint64_t next_pos = 0;
  bool limited = false;
};
ToDeviceInbox to_device_inbox(storage::ReadTxn& txn, std::string_view user_id,
                              std::string_view device_id, uint64_t since, size_t limit);

// Whether the device holds messages at or before `up_to` (acknowledged by a sync token).
bool has_acknowledged_to_device(storage::ReadTxn& txn, std::string_view user_id,
                                std::string_view device_id, uint64_t up_to);
// Deletes the device's messages at or before `up_to`.
storage::Status delete_acknowledged_to_device(storage::WriteTxn& txn, std::string_view user_id,
                                              std::string_view device_id, uint64_t up_to);

// A message taken out of an inbox to be delivered another way (an application service's
// transactions, MSC2409).
struct TakenToDevice {
  std::string user_id;
  std::string device_id;
  uint64_t pos = 0;
  std::string event_json;  // {"content", "sender", "type"}
};
// The messages of every device of `user_id` stored after stream position `after`, oldest first,
// at most `limit`, for an application service's transactions (MSC2409). The messages of the
// devices in `taken_from` leave their inboxes (devices without an access token of their own, made
// by the service: only the service delivers to them); the others stay for the device's /sync.
std::vector<TakenToDevice> copy_to_device(storage::WriteTxn& txn, std::string_view user_id,
                                          uint64_t after, const std::set<std::string>& taken_from,
                                          size_t limit, storage::Status* status);

// Deletes the device's whole inbox and the transaction ids it sent with: for device deletion,
// logout and account deactivation.
storage::Status delete_to_device_inbox(storage::WriteTxn& txn, std::string_view user_id,
                                       std::string_view device_id);

}  // namespace haven::e2ee
