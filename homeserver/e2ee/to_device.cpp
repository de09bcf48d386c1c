// kToDevice holds recipient user \0 device \0 u64 pos -> event JSON text; one send has one
// position and gives each device at most one message, so (device, pos) is unique and a device's
// messages scan in arrival order. kToDeviceTxnIds holds sender user \0 device \0 event type \0
// txn_id -> "" (a transaction id is scoped to a device and an endpoint, whose path holds the
// event type).
#include "homeserver/e2ee/to_device.h"

#include <algorithm>
#include <utility>

#include "homeserver/accounts/account_store.h"
#include "homeserver/base/json.h"
#include "homeserver/sync/stream_counter.h"
#include "storage/keys.h"

namespace haven::e2ee {

namespace {

using storage::KeyBuilder;
using storage::KeyReader;
using storage::Table;

constexpr std::string_view kCounter = "to_device";

std::string inbox_prefix(std::string_view user_id, std::string_view device_id) {
  return KeyBuilder().str(user_id).str(device_id).take();
}

std::string quoted(std::string_view s) {
  return json::to_string(json::Value(rapidjson::StringRef(s.data(), s.size())));
}

// The event /sync hands out, with the content as the sender gave it (already validated JSON).
std::string event_text(const ToDeviceSend& send, const std::string& content_json) {
  return "{\"content\":" + content_json + ",\"sender\":" + quoted(send.sender) +
         ",\"type\":" + quoted(send.type) + "}";
}

// The stream position at the end of an inbox key, or nullopt for a malformed key.
std::optional<uint64_t> pos_of(std::string_view key, size_t prefix_size) {
  if (key.size() < prefix_size) return std::nullopt;
  KeyReader r(key.substr(prefix_size));
  auto pos = r.u64();
  if (!pos || !r.done()) return std::nullopt;
  return pos;
}

}  // namespace

uint64_t to_device_pos(storage::ReadTxn& txn) { return streams::stream_counter(txn, kCounter); }

Result<ToDeviceStored> store_to_device(storage::WriteTxn& txn, const ToDeviceSend& send,
                                       size_t max_messages) {
  ToDeviceStored out;
  std::string txn_key =
      KeyBuilder().str(send.sender).str(send.sender_device).str(send.type).tail(send.txn_id).take();
  if (txn.get(Table::kToDeviceTxnIds, txn_key)) {
    out.duplicate = true;
    return out;
  }
  struct Delivery {
    std::string user_id;
    std::string device_id;
    const std::string* content;
  };
  std::vector<Delivery> deliveries;
  std::set<std::pair<std::string, std::string>> seen;
  auto add = [&](const std::string& user_id, const std::string& device_id,
                 const std::string& content) -> Status {
    if (!seen.emplace(user_id, device_id).second) return {};
    if (deliveries.size() >= max_messages) {
      return Error::too_large("A send may reach at most " + std::to_string(max_messages) +
                              " devices");
    }
    deliveries.push_back({user_id, device_id, &content});
    return {};
  };
  // Explicit device ids first, so they win over "*" for the same device.
  for (const ToDeviceTarget& t : send.targets) {
    if (t.device_id == "*") continue;
    if (!accounts::get_device(txn, t.user_id, t.device_id)) continue;
    HAVEN_TRY(add(t.user_id, t.device_id, t.content_json));
  }
  for (const ToDeviceTarget& t : send.targets) {
    if (t.device_id != "*") continue;
    for (const accounts::Device& d : accounts::list_devices(txn, t.user_id)) {
      HAVEN_TRY(add(t.user_id, d.device_id, t.content_json));
    }
  }
  if (!deliveries.empty()) {
    out.pos = txn.next_counter(kCounter);
    for (const Delivery& d : deliveries) {
      std::string key = KeyBuilder().str(d.user_id).str(d.device_id).u64(out.pos).take();
      auto s = txn.put(Table::kToDevice, key, event_text(send, *d.content));
      if (!s.ok()) return Error::unknown("Storage error: " + s.message());
      out.recipients.insert(d.user_id);
    }
    out.messages = deliveries.size();
  }
  if (auto s = txn.put(Table::kToDeviceTxnIds, txn_key, ""); !s.ok()) {
    return Error::unknown("Storage error: " + s.message());
  }
  return out;
}

ToDeviceInbox to_device_inbox(storage::ReadTxn& txn, std::string_view user_id,
                              std::string_view device_id, uint64_t since, size_t limit) {
  ToDeviceInbox inbox;
  uint64_t stream = to_device_pos(txn);
  since = std::min(since, stream);
  inbox.next_pos = stream;
  std::string prefix = inbox_prefix(user_id, device_id);
  if (since == UINT64_MAX) return inbox;
  std::string from = KeyBuilder().tail(prefix).u64(since + 1).take();
  uint64_t last = since;
  txn.scan(Table::kToDevice, prefix, from, storage::Direction::kForward,
           [&](std::string_view key, std::string_view value) {
             auto pos = pos_of(key, prefix.size());
             if (!pos) return true;
             if (inbox.events.size() >= limit) {
               inbox.limited = true;
               return false;
             }
             inbox.events.emplace_back(value);
             last = *pos;
             return true;
           });
  if (inbox.limited) inbox.next_pos = last;
  return inbox;
}

bool has_acknowledged_to_device(storage::ReadTxn& txn, std::string_view user_id,
                                std::string_view device_id, uint64_t up_to) {
  std::string prefix = inbox_prefix(user_id, device_id);
  bool found = false;
  txn.scan(Table::kToDevice, prefix, {}, storage::Direction::kForward,
           [&](std::string_view key, std::string_view) {
             auto pos = pos_of(key, prefix.size());
             found = pos && *pos <= up_to;
             return false;
           });
  return found;
}

storage::Status delete_acknowledged_to_device(storage::WriteTxn& txn, std::string_view user_id,
                                              std::string_view device_id, uint64_t up_to) {
  std::string prefix = inbox_prefix(user_id, device_id);
  std::vector<std::string> keys;
  txn.scan(Table::kToDevice, prefix, {}, storage::Direction::kForward,
           [&](std::string_view key, std::string_view) {
             auto pos = pos_of(key, prefix.size());
             if (pos && *pos > up_to) return false;
             keys.emplace_back(key);
             return true;
           });
  for (const std::string& key : keys) {
    if (auto s = txn.del(Table::kToDevice, key); !s.ok()) return s;
  }
  return storage::Status::ok_status();
}

std::vector<TakenToDevice> copy_to_device(storage::WriteTxn& txn, std::string_view user_id,
                                          uint64_t after, const std::set<std::string>& taken_from,
                                          size_t limit, storage::Status* status) {
  std::vector<TakenToDevice> found;
  std::vector<std::string> keys;
  std::string prefix = KeyBuilder().str(user_id).take();
  txn.scan(Table::kToDevice, prefix, {}, storage::Direction::kForward,
           [&](std::string_view key, std::string_view value) {
             KeyReader r(key.substr(prefix.size()));
             auto device = r.str();
             auto pos = r.u64();
             if (!device || !pos || !r.done() || *pos <= after) return true;
             found.push_back({std::string(user_id), std::string(*device), *pos, std::string(value)});
             keys.emplace_back(key);
             return true;
           });
  // Oldest first across devices; keep only as many as asked for.
  std::vector<size_t> order(found.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return found[a].pos < found[b].pos; });
  if (order.size() > limit) order.resize(limit);
  std::vector<TakenToDevice> out;
  out.reserve(order.size());
  for (size_t i : order) {
    if (taken_from.count(found[i].device_id)) {
      if (*status = txn.del(Table::kToDevice, keys[i]); !status->ok()) return {};
    }
    out.push_back(std::move(found[i]));
  }
  *status = storage::Status::ok_status();
  return out;
}

storage::Status delete_to_device_inbox(storage::WriteTxn& txn, std::string_view user_id,
                                       std::string_view device_id) {
  std::string prefix = inbox_prefix(user_id, device_id);
  if (auto s = txn.del_prefix(Table::kToDevice, prefix); !s.ok()) return s;
  return txn.del_prefix(Table::kToDeviceTxnIds, prefix);
}

}  // namespace haven::e2ee
