// Federation API: inbound transactions. PDUs go to the PDU intake, EDUs to their handlers;
// a repeated transaction gets the first answer again. A server sends its next transaction
// only once the last one was answered, so the last transaction of each origin is what is kept
// for that (kFederationTxns: origin -> {txn_id, answer}).
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "federation/routes.h"
#include "federation/server_acl.h"
#include "homeserver/base/json.h"
#include "homeserver/base/write.h"
#include "storage/keys.h"

namespace haven::federation {
namespace {

constexpr size_t kMaxPdus = 50;
constexpr size_t kMaxEdus = 100;
constexpr size_t kMaxTxnIdBytes = 255;

struct Transaction {
  std::vector<std::string> pdus;  // JSON texts
  std::vector<std::pair<std::string, json::Document>> edus;  // edu_type, content
};

Result<Transaction> parse_transaction(std::string_view body, int max_depth) {
  auto doc = json::parse_object(body, max_depth);
  if (!doc.ok()) return std::move(doc).error();
  Transaction t;
  auto pdus = doc->FindMember("pdus");
  if (pdus == doc->MemberEnd()) return Error::missing_param("Missing pdus");
  if (!pdus->value.IsArray()) return Error::bad_json("pdus must be an array");
  if (pdus->value.Size() > kMaxPdus) {
    return Error::bad_json("A transaction holds at most " + std::to_string(kMaxPdus) + " PDUs");
  }
  for (const auto& pdu : pdus->value.GetArray()) t.pdus.push_back(json::to_string(pdu));
  auto edus = doc->FindMember("edus");
  if (edus == doc->MemberEnd()) return t;
  if (!edus->value.IsArray()) return Error::bad_json("edus must be an array");
  if (edus->value.Size() > kMaxEdus) {
    return Error::bad_json("A transaction holds at most " + std::to_string(kMaxEdus) + " EDUs");
  }
  for (const auto& edu : edus->value.GetArray()) {
    if (!edu.IsObject()) continue;
    std::string type = json::get_string(edu, "edu_type");
    auto content = edu.FindMember("content");
    if (type.empty() || content == edu.MemberEnd() || !content->value.IsObject()) continue;
    json::Document copy;
    copy.CopyFrom(content->value, copy.GetAllocator());
    t.edus.emplace_back(std::move(type), std::move(copy));
  }
  return t;
}

std::string running_key(const std::string& origin, const std::string& txn_id) {
  return storage::KeyBuilder().str(origin).tail(txn_id).take();
}

// The answer given to `origin`'s transaction `txn_id`, if it was its last one.
std::optional<std::string> stored_answer(storage::Store& store, const std::string& origin,
                                         const std::string& txn_id) {
  auto txn = store.begin_read();
  if (!txn) return std::nullopt;
  auto record = txn->get(storage::Table::kFederationTxns, origin);
  if (!record) return std::nullopt;
  auto doc = json::parse_trusted(*record);
  if (!doc.IsObject() || json::get_string(doc, "txn_id") != txn_id) return std::nullopt;
  auto answer = doc.FindMember("answer");
  if (answer == doc.MemberEnd() || !answer->value.IsObject()) return std::nullopt;
  return json::to_string(answer->value);
}

// Transactions being processed, so that a retry while the first is running waits for its
// answer instead of running it twice.
class InboundTransactions {
 public:
  InboundTransactions(storage::Store& store, PduIntake& intake, const EduHandlers& edus,
                      int max_json_depth)
      : store_(store), intake_(intake), edus_(edus), max_json_depth_(max_json_depth) {}

  // PUT /_matrix/federation/v1/send/{txnId}
  void send_transaction(const http::ExchangePtr& ex, const std::string& origin) {
    const std::string& txn_id = ex->params[0];
    if (txn_id.size() > kMaxTxnIdBytes) {
      return ex->reply_error(Error::invalid_param("Transaction id too long"));
    }
    if (auto answer = stored_answer(store_, origin, txn_id)) return ex->reply_json(200, *answer);
    const std::string key = running_key(origin, txn_id);
    if (auto running = running_.find(key); running != running_.end()) {
      running->second.push_back(ex);
      return;
    }
    auto transaction = parse_transaction(ex->body(), max_json_depth_);
    if (!transaction.ok()) return ex->reply_error(transaction.error());
    running_[key].push_back(ex);
    auto shared = std::make_shared<Transaction>(std::move(*transaction));
    auto results = std::make_shared<json::Document>(json::object());
    auto remaining = std::make_shared<size_t>(shared->pdus.size());
    auto finish = [this, key, origin, txn_id, shared, results] {
      dispatch_edus(origin, shared->edus);
      answer(key, origin, txn_id, *results);
    };
    if (shared->pdus.empty()) return finish();
    // The PDUs of one room are checked in order and committed together.
    std::vector<PduIntake::Pdu> pdus;
    for (std::string& pdu : shared->pdus) {
      pdus.push_back({std::move(pdu), [results, remaining, finish](PduIntake::Outcome outcome) {
                        record(*results, outcome);
                        if (--*remaining == 0) finish();
                      }});
    }
    intake_.receive_all(origin, std::move(pdus));
  }

 private:
  // EDUs of a room whose server ACL denies `origin` (typing, receipts) are ignored.
  void dispatch_edus(const std::string& origin,
                     std::vector<std::pair<std::string, json::Document>>& edus) {
    for (auto& [type, content] : edus) {
      auto txn = store_.begin_read();
      if (txn && !filter_room_edu(*txn, origin, type, content)) continue;
      txn.reset();
      edus_.dispatch(origin, type, content);
    }
  }

  static void record(json::Document& results, const PduIntake::Outcome& outcome) {
    if (outcome.event_id.empty()) return;  // nothing to name it by
    auto& a = results.GetAllocator();
    json::Value entry(rapidjson::kObjectType);
    if (outcome.error) json::set(entry, "error", *outcome.error, a);
    results.RemoveMember(outcome.event_id.c_str());
    json::set(results, outcome.event_id, std::move(entry), a);
  }

  // Stores the answer (the dedupe record) and gives it to every waiting request.
  void answer(const std::string& key, const std::string& origin, const std::string& txn_id,
              const json::Document& results) {
    auto record = json::object();
    auto& a = record.GetAllocator();
    json::Value body(rapidjson::kObjectType), pdus;
    pdus.CopyFrom(results, a);
    json::set(body, "pdus", std::move(pdus), a);
    auto text = std::make_shared<std::string>(json::to_string(body));
    json::set(record, "txn_id", txn_id, a);
    json::set(record, "answer", std::move(body), a);
    auto stored = std::make_shared<std::string>(json::to_string(record));
    write<bool>(
        store_,
        [origin, stored](storage::WriteTxn& txn) -> Result<bool> {
          HAVEN_TRY(check(txn.put(storage::Table::kFederationTxns, origin, *stored)));
          return true;
        },
        [this, key, text](Result<bool> stored) {
          auto waiting = std::move(running_[key]);
          running_.erase(key);
          for (const auto& ex : waiting) {
            if (!stored.ok()) {
              ex->reply_error(stored.error());
            } else {
              ex->reply_json(200, *text);
            }
          }
        });
  }

  storage::Store& store_;
  PduIntake& intake_;
  const EduHandlers& edus_;
  int max_json_depth_;
  std::map<std::string, std::vector<http::ExchangePtr>> running_;
};

}  // namespace

void register_transaction_routes(http::Router& router, RequestVerifier& verifier,
                                 storage::Store& store, PduIntake& intake, const EduHandlers& edus,
                                 int max_json_depth) {
  auto inbound = std::make_shared<InboundTransactions>(store, intake, edus, max_json_depth);
  verifier.add_route(router, "PUT", "/_matrix/federation/v1/send/{txnId}",
                     [inbound](const http::ExchangePtr& ex, const std::string& origin) {
                       inbound->send_transaction(ex, origin);
                     });
}

}  // namespace haven::federation
