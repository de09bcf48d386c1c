#include "federation/outbox.h"

#include <spdlog/spdlog.h>

#include "federation/destinations.h"
#include "federation/device_announce.h"
#include "homeserver/base/json.h"
#include "homeserver/rooms/event_store.h"

namespace haven::federation {

namespace {

std::string edu_json(std::string_view type, std::string_view content_json) {
  // content_json is a JSON object's text from our own code: parsed once to embed it.
  auto content = json::parse_trusted(content_json);
  auto doc = json::object();
  auto& a = doc.GetAllocator();
  json::set(doc, "edu_type", type, a);
  json::Value c;
  if (content.IsObject()) {
    c.CopyFrom(content, a);
  } else {
    c.SetObject();
  }
  json::set(doc, "content", std::move(c), a);
  return json::to_string(doc);
}

}  // namespace

int64_t Outbox::backoff_ms(int failures) {
  int64_t wait = kFirstBackoffMs;
  for (int i = 1; i < failures && wait < kMaxBackoffMs; ++i) wait *= 2;
  return std::min(wait, kMaxBackoffMs);
}

Outbox::Outbox(Loop& loop, storage::Store& store, std::string origin,
               const ServerAllowList& allowed, Transport transport)
    : loop_(loop),
      store_(store),
      origin_(std::move(origin)),
      allowed_(allowed),
      transport_(std::move(transport)) {}

Outbox::~Outbox() { *alive_ = false; }

bool Outbox::allowed(std::string_view destination) const {
  return !destination.empty() && destination != origin_ && allowed_.allows(destination);
}

storage::Status Outbox::queue_event(storage::WriteTxn& txn, const rooms::Event& event,
                                    const std::vector<std::string>& extra) const {
  std::set<std::string> destinations = servers_in_room(txn, event.room_id(), origin_);
  // A kicked, banned or leaving user's server hears of it too (invites go through /invite).
  if (event.type() == "m.room.member" && event.state_key() && event.membership() != "invite") {
    destinations.insert(server_of(*event.state_key()));
  }
  destinations.insert(extra.begin(), extra.end());
  for (const auto& destination : destinations) {
    if (!allowed(destination)) continue;
    if (auto s = queue_pdu(txn, destination, event.room_id(), event.event_id()); !s.ok()) return s;
  }
  return storage::Status::ok_status();
}

storage::Status Outbox::queue_edu(storage::WriteTxn& txn, std::string_view destination,
                                  std::string_view type, std::string_view content_json) const {
  if (!allowed(destination)) return storage::Status::ok_status();
  return federation::queue_edu(txn, destination, edu_json(type, content_json));
}

void Outbox::send_edu(std::vector<std::string> destinations, std::string type,
                      std::string content_json) {
  std::erase_if(destinations, [this](const std::string& d) { return !allowed(d); });
  if (destinations.empty()) return;
  std::string edu = edu_json(type, content_json);
  store_.submit(
      [destinations, edu](storage::WriteTxn& txn) {
        for (const auto& destination : destinations) {
          if (auto s = federation::queue_edu(txn, destination, edu); !s.ok()) return s;
        }
        return storage::Status::ok_status();
      },
      [this, alive = alive_, type](storage::Status s) {
        if (!*alive) return;
        if (!s.ok()) spdlog::error("federation: could not queue a {} EDU: {}", type, s.message());
        wake();
      });
}

void Outbox::send_pdu(rooms::EventPtr event, std::vector<std::string> extra) {
  store_.submit(
      [this, event, extra](storage::WriteTxn& txn) { return queue_event(txn, *event, extra); },
      [this, alive = alive_, event](storage::Status s) {
        if (!*alive) return;
        if (!s.ok()) {
          spdlog::error("federation: could not queue {}: {}", event->event_id(), s.message());
        }
        wake();
      });
}

void Outbox::local_device_list_changed(const std::string& user_id) {
  if (server_of(user_id) != origin_) return;  // a remote user's list changed: theirs to tell
  store_.submit(
      [this, user_id](storage::WriteTxn& txn) {
        return queue_device_list_updates(txn, *this, origin_, user_id);
      },
      [this, alive = alive_, user_id](storage::Status s) {
        if (!*alive) return;
        if (!s.ok()) spdlog::error("federation: device list update not queued: {}", s.message());
        wake();
      });
}

void Outbox::wake() {
  std::vector<std::string> queued;
  {
    auto txn = store_.begin_read();
    if (!txn) return;
    queued = queued_destinations(*txn);
  }
  for (const auto& destination : queued) {
    Destination& d = destinations_[destination];
    if (!d.busy) start(destination);
  }
}

void Outbox::server_up(const std::string& server) {
  auto it = destinations_.find(server);
  if (it == destinations_.end() || !it->second.retry) return;
  it->second.retry.reset();
  it->second.failures = 0;
  start(server);
}

bool Outbox::busy(const std::string& destination) const {
  auto it = destinations_.find(destination);
  return it != destinations_.end() && it->second.busy;
}

int Outbox::failures(const std::string& destination) const {
  auto it = destinations_.find(destination);
  return it == destinations_.end() ? 0 : it->second.failures;
}

void Outbox::start(const std::string& destination) {
  Destination& d = destinations_[destination];
  d.busy = true;
  d.retry.reset();
  if (!allowed(destination)) {
    drop(destination);
    return;
  }
  auto transaction = std::make_shared<std::optional<OutTransaction>>();
  store_.submit(
      [destination, transaction](storage::WriteTxn& txn) {
        storage::Status s;
        *transaction = begin_transaction(txn, destination, &s);
        return s;
      },
      [this, alive = alive_, destination, transaction](storage::Status s) {
        if (!*alive) return;
        if (!s.ok()) {
          spdlog::error("federation: cannot start a transaction to {}: {}", destination,
                        s.message());
          failed(destination);
        } else if (!*transaction) {
          destinations_[destination].busy = false;  // nothing queued
        } else {
          send(destination, **transaction);
        }
      });
}

std::string Outbox::transaction_body(const std::string& destination, const OutTransaction& t) {
  auto txn = store_.begin_read();
  if (!txn) return {};
  auto doc = json::object();
  auto& a = doc.GetAllocator();
  json::set(doc, "origin", origin_, a);
  json::set(doc, "origin_server_ts", now_ms(), a);
  json::Value pdus(rapidjson::kArrayType);
  if (t.pdus_through > 0) {
    for (const auto& queued :
         peek_pdus(*txn, destination, kMaxPdusPerTransaction, t.pdus_through)) {
      auto stored = rooms::get_event(*txn, queued.event_id);
      if (!stored) continue;  // purged since: nothing left to send
      json::Value pdu;
      pdu.CopyFrom(stored->event->json(), a);
      if (pdu.IsObject()) pdu.RemoveMember("unsigned");
      pdus.PushBack(std::move(pdu), a);
    }
  }
  json::Value edus(rapidjson::kArrayType);
  if (t.edus_through > 0) {
    for (const auto& queued :
         peek_edus(*txn, destination, kMaxEdusPerTransaction, t.edus_through)) {
      auto edu = json::parse_trusted(queued.json);
      if (!edu.IsObject()) continue;
      json::Value copy;
      copy.CopyFrom(edu, a);
      edus.PushBack(std::move(copy), a);
    }
  }
  json::set(doc, "pdus", std::move(pdus), a);
  json::set(doc, "edus", std::move(edus), a);
  return json::to_string(doc);
}

void Outbox::send(const std::string& destination, const OutTransaction& t) {
  std::string body = transaction_body(destination, t);
  if (body.empty()) {
    failed(destination);
    return;
  }
  OutboundRequest request;
  request.destination = destination;
  request.method = "PUT";
  request.target = "/_matrix/federation/v1/send/" + t.txn_id;
  request.json_body = std::move(body);
  transport_(std::move(request),
             [this, alive = alive_, destination](Result<OutboundResponse> answer) {
               if (!*alive) return;
               answered(destination, answer);
             });
}

void Outbox::answered(const std::string& destination, const Result<OutboundResponse>& answer) {
  if (!answer.ok()) {
    if (answer.error().errcode == "M_FORBIDDEN" && !allowed(destination)) {
      drop(destination);
      return;
    }
    spdlog::warn("federation: transaction to {} failed: {}", destination, answer.error().message);
    failed(destination);
    return;
  }
  if (answer->status != 200) {
    spdlog::warn("federation: {} answered a transaction with HTTP {}", destination,
                 answer->status);
    failed(destination);
    return;
  }
  store_.submit(
      [destination](storage::WriteTxn& txn) { return complete_transaction(txn, destination); },
      [this, alive = alive_, destination](storage::Status s) {
        if (!*alive) return;
        if (!s.ok()) {
          spdlog::error("federation: cannot record the delivery to {}: {}", destination,
                        s.message());
          failed(destination);
          return;
        }
        completed(destination);
      });
}

void Outbox::completed(const std::string& destination) {
  Destination& d = destinations_[destination];
  d.failures = 0;
  start(destination);  // there may be more
}

void Outbox::failed(const std::string& destination) {
  Destination& d = destinations_[destination];
  d.failures++;
  d.busy = true;  // until the retry
  // start() destroys the timer, which Loop allows from its own callback.
  d.retry = loop_.at(now_ms() + backoff_ms(d.failures), [this, destination] { start(destination); });
}

void Outbox::drop(const std::string& destination) {
  spdlog::warn("federation: {} is not an allowed server: its queue is dropped", destination);
  store_.submit(
      [destination](storage::WriteTxn& txn) { return drop_destination(txn, destination); },
      [this, alive = alive_, destination](storage::Status) {
        if (!*alive) return;
        destinations_[destination].busy = false;
      });
}

}  // namespace haven::federation
