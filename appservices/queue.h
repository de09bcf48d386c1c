// The persistent, ordered outbox of each application service: items (room events, ephemeral
// events, to-device messages) waiting to go out in transactions, the transaction in flight (so
// a retry, even after a restart, sends exactly the same items under the same id) and the
// cursors of the streams that feed the outbox. Reads take a ReadTxn (any thread); writes take
// a WriteTxn (the storage writer thread, inside a Store job).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/store.h"

namespace haven::appservice {

// kDeviceLists: an MSC3202 {changed, left} delta (device_lists.h).
enum class ItemKind : char { kEvent = 'e', kEphemeral = 'p', kToDevice = 't', kDeviceLists = 'd' };

struct QueuedItem {
  uint64_t seq = 0;
  ItemKind kind = ItemKind::kEvent;
  std::string json;
};

// Appends an item at the end of the service's outbox. A room's event gives its `room_id`: the
// JSON is then sealed with the room's at-rest key, and an item whose room was purged before it
// was sent comes back from peek() with empty JSON (senders skip it).
storage::Status enqueue(storage::WriteTxn& txn, std::string_view service_id, ItemKind kind,
                        std::string_view json, std::string_view room_id = {});

// The oldest items, at most `max_items`, and none after `through_seq` when it is given.
std::vector<QueuedItem> peek(storage::ReadTxn& txn, std::string_view service_id, size_t max_items,
                             std::optional<uint64_t> through_seq = std::nullopt);
size_t queued_count(storage::ReadTxn& txn, std::string_view service_id, size_t stop_at);

// Removes every item up to and including `last_seq`.
storage::Status remove_through(storage::WriteTxn& txn, std::string_view service_id,
                               uint64_t last_seq);

// The transaction being delivered: its id and the last item it holds (it holds every item up
// to that one).
struct InFlight {
  uint64_t txn_id = 0;
  uint64_t last_seq = 0;
};
std::optional<InFlight> in_flight(storage::ReadTxn& txn, std::string_view service_id);
// Starts a new transaction ending at `last_seq`, with the service's next transaction id.
InFlight begin_in_flight(storage::WriteTxn& txn, std::string_view service_id, uint64_t last_seq,
                         storage::Status* status);
storage::Status end_in_flight(storage::WriteTxn& txn, std::string_view service_id);

// A stream cursor of the service ("events", "device_lists", ...): the last position fed.
std::optional<uint64_t> cursor(storage::ReadTxn& txn, std::string_view service_id,
                               std::string_view name);
storage::Status set_cursor(storage::WriteTxn& txn, std::string_view service_id,
                           std::string_view name, uint64_t pos);

}  // namespace haven::appservice
