// The persistent outbound queue of each destination server: PDUs (by reference: room and event
// id, the event itself stays in the event store) and EDUs waiting to go out in transactions,
// and the transaction in flight, fixed when it starts, so that a retry (even after a restart)
// sends the same items under the same transaction id. Items leave the queue only once the
// destination answered 200. Reads take a ReadTxn (any thread); writes take a WriteTxn (the
// storage writer thread, inside a Store job).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/store.h"

namespace haven::federation {

// The spec's limits for one transaction.
constexpr size_t kMaxPdusPerTransaction = 50;
constexpr size_t kMaxEdusPerTransaction = 100;

struct QueuedPdu {
  uint64_t seq = 0;
  std::string room_id;
  std::string event_id;
};

struct QueuedEdu {
  uint64_t seq = 0;
  std::string json;  // {"edu_type": ..., "content": {...}}
};

// Appends a PDU (by reference) or an EDU (its JSON text, {"edu_type", "content"}) at the end
// of the destination's queue. Items of one destination keep the order they were queued in.
storage::Status queue_pdu(storage::WriteTxn& txn, std::string_view destination,
                          std::string_view room_id, std::string_view event_id);
storage::Status queue_edu(storage::WriteTxn& txn, std::string_view destination,
                          std::string_view edu_json);

// The oldest queued items, at most `max`, none after `through_seq` when it is given.
std::vector<QueuedPdu> peek_pdus(storage::ReadTxn& txn, std::string_view destination, size_t max,
                                 std::optional<uint64_t> through_seq = std::nullopt);
std::vector<QueuedEdu> peek_edus(storage::ReadTxn& txn, std::string_view destination, size_t max,
                                 std::optional<uint64_t> through_seq = std::nullopt);

// A transaction being delivered: its id and the last PDU and EDU it holds (it holds every
// queued item up to those; 0: none of that kind).
struct OutTransaction {
  std::string txn_id;
  uint64_t pdus_through = 0;
  uint64_t edus_through = 0;
};

std::optional<OutTransaction> transaction_in_flight(storage::ReadTxn& txn,
                                                    std::string_view destination);
// The destination's transaction in flight, or a new one holding the oldest items within the
// spec's limits under a new id; nullopt when nothing is queued (or on a storage error, in
// `status`).
std::optional<OutTransaction> begin_transaction(storage::WriteTxn& txn,
                                                std::string_view destination,
                                                storage::Status* status);
// The destination accepted the transaction in flight: its items leave the queue, and the
// destination leaves the list of queued destinations when nothing else waits for it.
storage::Status complete_transaction(storage::WriteTxn& txn, std::string_view destination);
// Forgets everything queued for the destination (it may no longer be federated with).
storage::Status drop_destination(storage::WriteTxn& txn, std::string_view destination);

// Every destination with queued items or a transaction in flight.
std::vector<std::string> queued_destinations(storage::ReadTxn& txn);

}  // namespace haven::federation
