#include "federation/outbox_queue.h"

#include "homeserver/base/json.h"
#include "homeserver/base/loop.h"
#include "storage/keys.h"

namespace haven::federation {

using storage::KeyBuilder;
using storage::KeyReader;
using storage::Status;
using storage::Table;

namespace {

constexpr std::string_view kNothingInFlight = "{}";

std::string item_key(std::string_view destination, uint64_t seq) {
  return KeyBuilder().str(destination).u64(seq).take();
}

Status mark_queued(storage::WriteTxn& txn, std::string_view destination) {
  if (txn.get(Table::kFedOutDestinations, destination)) return Status::ok_status();
  return txn.put(Table::kFedOutDestinations, destination, kNothingInFlight);
}

// Visits the destination's items of `table` in order: visit(seq, value) until it returns false.
template <typename Visit>
void scan_items(storage::ReadTxn& txn, Table table, std::string_view destination, Visit visit) {
  std::string prefix = KeyBuilder().str(destination).take();
  txn.scan(table, prefix, {}, storage::Direction::kForward,
           [&](std::string_view key, std::string_view value) {
             auto seq = KeyReader(key.substr(prefix.size())).u64();
             return !seq || visit(*seq, value);
           });
}

Status delete_through(storage::WriteTxn& txn, Table table, std::string_view destination,
                      uint64_t through) {
  std::vector<uint64_t> seqs;
  scan_items(txn, table, destination, [&](uint64_t seq, std::string_view) {
    if (seq > through) return false;
    seqs.push_back(seq);
    return true;
  });
  for (uint64_t seq : seqs) {
    if (auto s = txn.del(table, item_key(destination, seq)); !s.ok()) return s;
  }
  return Status::ok_status();
}

bool has_items(storage::ReadTxn& txn, Table table, std::string_view destination) {
  bool any = false;
  scan_items(txn, table, destination, [&](uint64_t, std::string_view) {
    any = true;
    return false;
  });
  return any;
}

}  // namespace

Status queue_pdu(storage::WriteTxn& txn, std::string_view destination, std::string_view room_id,
                 std::string_view event_id) {
  uint64_t seq = txn.next_counter("fed_out:seq");
  auto s = txn.put(Table::kFedOutPdus, item_key(destination, seq),
                   KeyBuilder().str(room_id).tail(event_id).build());
  if (!s.ok()) return s;
  return mark_queued(txn, destination);
}

Status queue_edu(storage::WriteTxn& txn, std::string_view destination, std::string_view edu_json) {
  uint64_t seq = txn.next_counter("fed_out:seq");
  auto s = txn.put(Table::kFedOutEdus, item_key(destination, seq), edu_json);
  if (!s.ok()) return s;
  return mark_queued(txn, destination);
}

std::vector<QueuedPdu> peek_pdus(storage::ReadTxn& txn, std::string_view destination, size_t max,
                                 std::optional<uint64_t> through_seq) {
  std::vector<QueuedPdu> out;
  if (max == 0) return out;
  scan_items(txn, Table::kFedOutPdus, destination, [&](uint64_t seq, std::string_view value) {
    if (through_seq && seq > *through_seq) return false;
    KeyReader reader(value);
    auto room_id = reader.str();
    if (room_id) out.push_back({seq, std::string(*room_id), std::string(reader.tail())});
    return out.size() < max;
  });
  return out;
}

std::vector<QueuedEdu> peek_edus(storage::ReadTxn& txn, std::string_view destination, size_t max,
                                 std::optional<uint64_t> through_seq) {
  std::vector<QueuedEdu> out;
  if (max == 0) return out;
  scan_items(txn, Table::kFedOutEdus, destination, [&](uint64_t seq, std::string_view value) {
    if (through_seq && seq > *through_seq) return false;
    out.push_back({seq, std::string(value)});
    return out.size() < max;
  });
  return out;
}

std::optional<OutTransaction> transaction_in_flight(storage::ReadTxn& txn,
                                                    std::string_view destination) {
  auto v = txn.get(Table::kFedOutDestinations, destination);
  if (!v) return std::nullopt;
  auto doc = json::parse_trusted(*v);
  if (!doc.IsObject()) return std::nullopt;
  std::string id = json::get_string(doc, "txn_id");
  if (id.empty()) return std::nullopt;
  return OutTransaction{std::move(id), static_cast<uint64_t>(json::get_int(doc, "pdus_through")),
                        static_cast<uint64_t>(json::get_int(doc, "edus_through"))};
}

std::optional<OutTransaction> begin_transaction(storage::WriteTxn& txn,
                                                std::string_view destination, Status* status) {
  *status = Status::ok_status();
  if (auto existing = transaction_in_flight(txn, destination)) return existing;
  auto pdus = peek_pdus(txn, destination, kMaxPdusPerTransaction);
  auto edus = peek_edus(txn, destination, kMaxEdusPerTransaction);
  if (pdus.empty() && edus.empty()) return std::nullopt;
  OutTransaction t;
  // Unique for this server's database (the counter) and across a recreated database (the
  // time), since receivers drop a transaction id they saw before from the same origin.
  t.txn_id = std::to_string(now_ms()) + "." + std::to_string(txn.next_counter("fed_out:txn"));
  t.pdus_through = pdus.empty() ? 0 : pdus.back().seq;
  t.edus_through = edus.empty() ? 0 : edus.back().seq;
  auto doc = json::object();
  auto& a = doc.GetAllocator();
  json::set(doc, "txn_id", t.txn_id, a);
  json::set(doc, "pdus_through", static_cast<int64_t>(t.pdus_through), a);
  json::set(doc, "edus_through", static_cast<int64_t>(t.edus_through), a);
  *status = txn.put(Table::kFedOutDestinations, destination, json::to_string(doc));
  if (!status->ok()) return std::nullopt;
  return t;
}

Status complete_transaction(storage::WriteTxn& txn, std::string_view destination) {
  auto t = transaction_in_flight(txn, destination);
  if (!t) return Status::ok_status();
  if (t->pdus_through > 0) {
    if (auto s = delete_through(txn, Table::kFedOutPdus, destination, t->pdus_through); !s.ok()) {
      return s;
    }
  }
  if (t->edus_through > 0) {
    if (auto s = delete_through(txn, Table::kFedOutEdus, destination, t->edus_through); !s.ok()) {
      return s;
    }
  }
  if (has_items(txn, Table::kFedOutPdus, destination) ||
      has_items(txn, Table::kFedOutEdus, destination)) {
    return txn.put(Table::kFedOutDestinations, destination, kNothingInFlight);
  }
  return txn.del(Table::kFedOutDestinations, destination);
}

Status drop_destination(storage::WriteTxn& txn, std::string_view destination) {
  std::string prefix = KeyBuilder().str(destination).take();
  if (auto s = txn.del_prefix(Table::kFedOutPdus, prefix); !s.ok()) return s;
  if (auto s = txn.del_prefix(Table::kFedOutEdus, prefix); !s.ok()) return s;
  return txn.del(Table::kFedOutDestinations, destination);
}

std::vector<std::string> queued_destinations(storage::ReadTxn& txn) {
  std::vector<std::string> out;
  txn.scan(Table::kFedOutDestinations, {}, {}, storage::Direction::kForward,
           [&](std::string_view key, std::string_view) {
             out.emplace_back(key);
             return true;
           });
  return out;
}

}  // namespace haven::federation
