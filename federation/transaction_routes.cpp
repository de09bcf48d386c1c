// Federation API: inbound transactions. PDUs go to the PDU intake, EDUs to their handlers;
// a transaction id seen before from the same origin gets the first answer again.
#include <map>
#include <memory>
#include <vector>

#include "federation/routes.h"
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

std::string txn_key(const std::string& origin, const std::string& txn_id) {
  return storage::KeyBuilder().str(origin).tail(txn_id).take();
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
    const std::string key = txn_key(origin, txn_id);
    if (auto txn = store_.begin_read()) {
      if (auto answer = txn->get(storage::Table::kFederationTxns, key)) {
        return ex->reply_json(200, *answer);
      }
    }
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
    auto finish = [this, key, origin, shared, results] {
      for (const auto& [type, content] : shared->edus) edus_.dispatch(origin, type, content);
      answer(key, *results);
    };
    if (shared->pdus.empty()) return finish();
    for (std::string& pdu : shared->pdus) {
      intake_.receive(origin, std::move(pdu),
                      [results, remaining, finish](PduIntake::Outcome outcome) {
                        record(*results, outcome);
                        if (--*remaining == 0) finish();
                      });
    }
  }

 private:
  static void record(json::Document& results, const PduIntake::Outcome& outcome) {
    if (outcome.event_id.empty()) return;  // nothing to name it by
    auto& a = results.GetAllocator();
    json::Value entry(rapidjson::kObjectType);
    if (outcome.error) json::set(entry, "error", *outcome.error, a);
    results.RemoveMember(outcome.event_id.c_str());
    json::set(results, outcome.event_id, std::move(entry), a);
  }

  // Stores the answer (the dedupe record) and gives it to every waiting request.
  void answer(const std::string& key, const json::Document& results) {
    auto body = json::object();
    json::Value pdus;
    pdus.CopyFrom(results, body.GetAllocator());
    json::set(body, "pdus", std::move(pdus), body.GetAllocator());
    auto text = std::make_shared<std::string>(json::to_string(body));
    write<bool>(
        store_,
        [key, text](storage::WriteTxn& txn) -> Result<bool> {
          HAVEN_TRY(check(txn.put(storage::Table::kFederationTxns, key, *text)));
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
