#include "federation/pdu_intake.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "federation/pdu_checks.h"
#include "federation/server_acl.h"
#include "homeserver/base/json.h"
#include "homeserver/base/write.h"
#include "homeserver/rooms/auth_rules.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/redaction.h"
#include "homeserver/rooms/state_at_event.h"

namespace haven::federation {
namespace {

using Stored = rooms::ReceivedEvent::Outcome;
using IdList = std::shared_ptr<std::vector<std::string>>;

// Checks 2 and 3 with the keys at hand: pure, so it may run on a worker.
Result<rooms::EventPtr> verify_event(const rooms::EventPtr& event,
                                     const std::vector<SigningKey>& keys, bool* redacted) {
  const rooms::RoomVersion& version = event->version();
  rapidjson::Document stripped = rooms::redact(event->json(), version);
  HAVEN_TRY(verify_signatures(stripped, keys));
  *redacted = !content_hash_matches(*event);
  if (!*redacted) return event;
  return rooms::Event::from_json(std::move(stripped), version);
}

int64_t depth_of(std::string_view pdu_json) {
  auto doc = json::parse_trusted(pdu_json);
  return doc.IsObject() ? json::get_int(doc, "depth") : 0;
}

std::string outcome_error(const rooms::ReceivedEvent& r) {
  return r.outcome == Stored::kRejected ? "Rejected: " + r.reason : std::string();
}

}  // namespace

PduIntake::PduIntake(Loop& loop, storage::Store& store, KeyRing& keys, RemoteRoomSource& remote,
                     WorkerPool* workers, Appended appended)
    : loop_(loop),
      store_(store),
      keys_(keys),
      remote_(remote),
      workers_(workers),
      appended_(std::move(appended)) {}

PduIntake::~PduIntake() { *alive_ = false; }

void PduIntake::receive(const std::string& origin, std::string pdu_json, Done done) {
  std::vector<Pdu> one;
  one.push_back({std::move(pdu_json), std::move(done)});
  receive_all(origin, std::move(one));
}

void PduIntake::receive_all(const std::string& origin, std::vector<Pdu> pdus) {
  std::map<std::string, BatchPtr> by_room;
  std::vector<BatchPtr> batches;  // in the order their rooms first appear
  for (Pdu& pdu : pdus) {
    auto doc = json::parse_trusted(pdu.json);
    std::string room_id = doc.IsObject() ? json::get_string(doc, "room_id") : std::string();
    if (room_id.empty()) {
      pdu.done({{}, "The PDU has no room_id", std::nullopt});
      continue;
    }
    if (auto denied = check_origin_acl(origin, room_id)) {
      pdu.done({event_id_of(pdu.json).value_or(""), std::move(denied), std::nullopt});
      continue;
    }
    BatchPtr& batch = by_room[room_id];
    if (!batch) {
      batch = std::make_shared<Batch>();
      batch->origin = origin;
      batch->room_id = room_id;
      batches.push_back(batch);
    }
    batch->items.push_back(BatchItem{std::move(pdu.json), {std::move(pdu.done)}, {}, {}});
  }
  for (const BatchPtr& batch : batches) {
    size_t count = batch->items.size();
    size_t& queued = queued_pdus_[batch->room_id];
    if (queued + count > kMaxQueuedPerRoom) {
      if (queued == 0) queued_pdus_.erase(batch->room_id);
      for (BatchItem& item : batch->items) {
        finish(item, {event_id_of(item.json).value_or(""), "Too many PDUs waiting for this room",
                      std::nullopt});
      }
      continue;
    }
    queued += count;
    enqueue(batch->room_id, [this, batch, count](std::function<void()> next) {
      batch->done = [this, room_id = batch->room_id, count, next] {
        if (auto it = queued_pdus_.find(room_id); it != queued_pdus_.end()) {
          it->second -= std::min(it->second, count);
          if (it->second == 0) queued_pdus_.erase(it);
        }
        next();
      };
      run_batch(batch);
    });
  }
}

void PduIntake::run_batch(const BatchPtr& batch) {
  auto alive = alive_;
  check_batch(batch, [this, alive, batch] {
    if (*alive) advance(batch, 0);
  });
}

void PduIntake::check_batch(const BatchPtr& batch, std::function<void()> done) {
  std::map<std::string, size_t> first_copy;  // event id -> index of its first copy
  std::vector<size_t> to_verify;
  for (size_t i = 0; i < batch->items.size(); ++i) {
    BatchItem& item = batch->items[i];
    auto event = parse(item.json);
    if (!event.ok()) {
      finish(item, {event_id_of(item.json).value_or(""), event.error().message, std::nullopt});
      continue;
    }
    const std::string& id = (*event)->event_id();
    if (auto [it, first] = first_copy.emplace(id, i); !first) {
      BatchItem& original = batch->items[it->second];
      if (original.outcome) {
        finish(item, *original.outcome);
      } else {
        for (Done& d : item.dones) original.dones.push_back(std::move(d));
        item.dones.clear();
        item.outcome = Outcome{id, std::nullopt, Stored::kAlreadyKnown};
      }
      continue;
    }
    if (known(id, false)) {
      finish(item, {id, std::nullopt, Stored::kAlreadyKnown});
      continue;
    }
    item.checked.event = std::move(*event);
    to_verify.push_back(i);
  }
  if (to_verify.empty()) return done();
  auto waiting = std::make_shared<size_t>(to_verify.size());
  auto alive = alive_;
  for (size_t i : to_verify) {
    rooms::EventPtr event = batch->items[i].checked.event;
    check_signatures(event, [this, alive, batch, i, waiting, done](Result<Checked> checked) {
      if (!*alive) return;
      BatchItem& item = batch->items[i];
      if (!checked.ok()) {
        std::string id = item.checked.event->event_id();
        item.checked = {};
        finish(item, {id, checked.error().message, std::nullopt});
      } else {
        item.checked = std::move(*checked);
      }
      if (--*waiting == 0) done();
    });
  }
}

void PduIntake::advance(const BatchPtr& batch, size_t index) {
  auto alive = alive_;
  for (; index < batch->items.size(); ++index) {
    BatchItem& item = batch->items[index];
    if (item.outcome || !item.checked.event) continue;
    if (!needs_fetching(*batch, *item.checked.event)) {
      batch->pending.push_back(index);
      continue;
    }
    // Gap filling reads the store and may store events: the PDUs before this one go first.
    return flush(batch, [this, alive, batch, index] {
      if (!*alive) return;
      BatchItem& item = batch->items[index];
      fill_and_commit(batch->origin, item.checked, true,
                      [this, alive, batch, index](Outcome outcome) {
                        if (!*alive) return;
                        finish(batch->items[index], std::move(outcome));
                        advance(batch, index + 1);
                      });
    });
  }
  flush(batch, [batch] { batch->done(); });
}

bool PduIntake::needs_fetching(const Batch& batch, const rooms::Event& event) {
  auto pending = [&](const std::string& id) {
    return std::any_of(batch.pending.begin(), batch.pending.end(),
                       [&](size_t i) { return batch.items[i].checked.event->event_id() == id; });
  };
  {
    auto txn = store_.begin_read();
    if (!txn) return true;
    for (const std::string& id : rooms::prev_events_without_state(*txn, event.prev_events())) {
      if (!pending(id)) return true;
    }
  }
  return std::any_of(event.auth_events().begin(), event.auth_events().end(),
                     [&](const std::string& id) { return !pending(id) && !known(id, true); });
}

void PduIntake::flush(const BatchPtr& batch, std::function<void()> done) {
  std::vector<size_t> indexes = std::move(batch->pending);
  batch->pending.clear();
  if (indexes.empty()) return done();
  auto remaining = std::make_shared<size_t>(indexes.size());
  auto retry = std::make_shared<std::vector<size_t>>();
  auto alive = alive_;
  std::vector<WriteStep<rooms::ReceivedEvent>> steps;
  for (size_t index : indexes) {
    Checked c = batch->items[index].checked;
    steps.push_back(
        {[c, policy = policy_](storage::WriteTxn& txn) {
           return rooms::receive_event(txn, c.event, c.redacted, policy);
         },
         [this, alive, batch, index, remaining, retry, done](Result<rooms::ReceivedEvent> r) {
           if (!*alive) return;
           BatchItem& item = batch->items[index];
           // A prev or auth event this PDU counted on was not stored: fill its gaps after all.
           if (!r.ok() && r.error().errcode == "M_NOT_FOUND") {
             retry->push_back(index);
           } else {
             finish(item, stored_outcome(item.checked.event, std::move(r)));
           }
           if (--*remaining == 0) commit_alone(batch, retry, 0, done);
         }});
  }
  write_together(store_, std::move(steps));
}

void PduIntake::commit_alone(const BatchPtr& batch, std::shared_ptr<std::vector<size_t>> indexes,
                             size_t at, std::function<void()> done) {
  if (at == indexes->size()) return done();
  size_t index = (*indexes)[at];
  auto alive = alive_;
  fill_and_commit(batch->origin, batch->items[index].checked, true,
                  [this, alive, batch, indexes, at, index, done](Outcome outcome) {
                    if (!*alive) return;
                    finish(batch->items[index], std::move(outcome));
                    commit_alone(batch, indexes, at + 1, done);
                  });
}

void PduIntake::finish(BatchItem& item, Outcome outcome) {
  item.outcome = outcome;
  std::vector<Done> dones = std::move(item.dones);
  item.dones.clear();
  for (Done& done : dones) done(outcome);
}

PduIntake::Outcome PduIntake::stored_outcome(const rooms::EventPtr& event,
                                             Result<rooms::ReceivedEvent> r) {
  if (!r.ok()) return {event->event_id(), r.error().message, std::nullopt};
  if (r->outcome == Stored::kAccepted && appended_) appended_(event);
  std::string error = outcome_error(*r);
  return {event->event_id(), error.empty() ? std::nullopt : std::optional(error), r->outcome};
}

void PduIntake::enqueue(const std::string& room_id, Task task) {
  auto& queue = rooms_[room_id];
  queue.push_back(std::move(task));
  if (queue.size() == 1) run_front(room_id);
}

void PduIntake::run_front(const std::string& room_id) {
  Task task = rooms_[room_id].front();
  auto alive = alive_;
  task([this, alive, room_id] {
    if (!*alive) return;
    auto& queue = rooms_[room_id];
    queue.pop_front();
    if (queue.empty()) {
      rooms_.erase(room_id);
      return;
    }
    // Through the loop: a room's long queue never recurses.
    loop_.post([this, alive, room_id] {
      if (*alive) run_front(room_id);
    });
  });
}

std::optional<std::string> PduIntake::check_origin_acl(const std::string& origin,
                                                      const std::string& room_id) {
  auto txn = store_.begin_read();
  if (!txn) return std::nullopt;
  auto allowed = check_server_acl(*txn, room_id, origin);
  if (allowed.ok()) return std::nullopt;
  return allowed.error().message;
}

std::optional<std::string> PduIntake::event_id_of(std::string_view pdu_json) {
  auto doc = json::parse_trusted(pdu_json);
  if (!doc.IsObject()) return std::nullopt;
  auto txn = store_.begin_read();
  auto room = txn ? rooms::get_room(*txn, json::get_string(doc, "room_id")) : std::nullopt;
  const rooms::RoomVersion* version = room ? rooms::find_room_version(room->version) : nullptr;
  if (!version) return std::nullopt;
  return rooms::compute_event_id(doc, *version);
}

Result<rooms::EventPtr> PduIntake::parse(std::string_view pdu_json) {
  auto doc = json::parse_trusted(pdu_json);
  if (!doc.IsObject()) return Error::not_json("The PDU is not a JSON object");
  std::string room_id = json::get_string(doc, "room_id");
  auto txn = store_.begin_read();
  if (!txn) return Error::unknown("The store is busy");
  auto room = rooms::get_room(*txn, room_id);
  if (!room) return Error::not_found("This server is not in room " + room_id);
  const rooms::RoomVersion* version = rooms::find_room_version(room->version);
  if (!version) return Error::unknown("The room has an unsupported version");
  auto event = rooms::Event::parse_pdu(pdu_json, *version);
  if (event.ok() && (*event)->room_id() != room_id) return Error::bad_json("Wrong room_id");
  return event;
}

bool PduIntake::known(const std::string& event_id, bool outliers_count) {
  auto txn = store_.begin_read();
  if (!txn) return false;
  if (rooms::rejected_event(*txn, event_id)) return true;
  auto stored = rooms::get_event(*txn, event_id);
  return stored && (outliers_count || !stored->outlier);
}

void PduIntake::process(const std::string& origin, const std::string& pdu_json, bool fill,
                        Done done) {
  auto event = parse(pdu_json);
  if (!event.ok()) {
    return done({event_id_of(pdu_json).value_or(""), event.error().message, std::nullopt});
  }
  const std::string id = (*event)->event_id();
  if (known(id, false)) return done({id, std::nullopt, Stored::kAlreadyKnown});
  auto alive = alive_;
  check_signatures(*event, [this, alive, origin, fill, id, done](Result<Checked> checked) {
    if (!*alive) return;
    if (!checked.ok()) return done({id, checked.error().message, std::nullopt});
    fill_and_commit(origin, *checked, fill, done);
  });
}

void PduIntake::fill_and_commit(const std::string& origin, const Checked& c, bool fill, Done done) {
  auto alive = alive_;
  const std::string id = c.event->event_id();
  fill_gaps(origin, c.event, fill, [this, alive, origin, c, id, done](Status filled) {
    if (!*alive) return;
    if (!filled.ok()) return done({id, filled.error().message, std::nullopt});
    fetch_auth_events(origin, c.event, [this, alive, c, done] {
      if (*alive) commit(c, done);
    });
  });
}

void PduIntake::check_signatures(const rooms::EventPtr& event, CheckedDone done) {
  auto servers = rooms::servers_required_to_sign(*event, event->version());
  if (servers.empty()) return done(Error::forbidden("The event has no sender server"));
  auto wanted = signing_keys_wanted(*event, servers);
  if (!wanted.ok()) return done(std::move(wanted).error());
  auto alive = alive_;
  fetch_signing_keys(
      keys_, event->origin_server_ts(), std::move(*wanted),
      [this, alive, event, done](std::vector<SigningKey> keys) {
        if (!*alive) return;
        auto work = [event, keys = std::move(keys)]() -> Result<Checked> {
          bool redacted = false;
          auto verified = verify_event(event, keys, &redacted);
          if (!verified.ok()) return std::move(verified).error();
          return Checked{std::move(*verified), redacted};
        };
        if (!workers_) return done(work());
        workers_->run<Result<Checked>>(loop_, work, [alive, done](Result<Checked> r) {
          if (*alive) done(std::move(r));
        });
      });
}

void PduIntake::fill_gaps(const std::string& origin, const rooms::EventPtr& event,
                          bool ask_missing_events, StatusDone done) {
  std::vector<std::string> missing;
  std::vector<std::string> earliest;
  {
    auto txn = store_.begin_read();
    if (!txn) return done(Error::unknown("The store is busy"));
    missing = rooms::prev_events_without_state(*txn, event->prev_events());
    if (auto room = rooms::get_room(*txn, event->room_id())) earliest = room->extremities;
  }
  if (missing.empty()) return done({});
  auto alive = alive_;
  auto by_state = [this, alive, origin, event, done] {
    if (!*alive) return;
    std::vector<std::string> still_missing;
    if (auto txn = store_.begin_read()) {
      still_missing = rooms::prev_events_without_state(*txn, event->prev_events());
    }
    if (still_missing.empty()) return done({});
    if (still_missing.size() > kMaxPrevEventsByState) {
      return done(Error::unknown("Too many prev events are missing"));
    }
    auto list = std::make_shared<std::vector<std::string>>(std::move(still_missing));
    state_from_remote(origin, event, list, 0, done);
  };
  if (!ask_missing_events) return by_state();
  remote_.get_missing_events(
      origin, event->room_id(), earliest, {event->event_id()}, kMissingEventsLimit, 0,
      [this, alive, origin, room_id = event->room_id(),
       by_state](Result<std::vector<std::string>> pdus) {
        if (!*alive) return;
        if (!pdus.ok() || pdus->empty()) return by_state();
        // Only this room's events: the answer is handled while this room waits for it.
        std::erase_if(*pdus, [&](const std::string& pdu) {
          auto doc = json::parse_trusted(pdu);
          return !doc.IsObject() || json::get_string(doc, "room_id") != room_id;
        });
        auto sorted = std::make_shared<std::vector<std::string>>(std::move(*pdus));
        if (sorted->size() > static_cast<size_t>(kMissingEventsLimit)) {
          sorted->resize(kMissingEventsLimit);
        }
        std::stable_sort(sorted->begin(), sorted->end(), [](const auto& a, const auto& b) {
          return depth_of(a) < depth_of(b);
        });
        process_in_order(origin, sorted, 0, by_state);
      });
}

void PduIntake::fetch_auth_events(const std::string& origin, const rooms::EventPtr& event,
                                  std::function<void()> done) {
  auto missing = std::make_shared<std::vector<std::string>>();
  for (const std::string& id : event->auth_events()) {
    if (!known(id, true)) missing->push_back(id);
  }
  if (missing->empty()) return done();
  auto fetched = std::make_shared<std::vector<Checked>>();
  auto alive = alive_;
  fetch_events(origin, event->version(), event->room_id(), missing, 0, fetched,
               [this, alive, fetched, done] {
                 if (!*alive) return;
                 // Whatever could not be had leaves the event's check to say so.
                 store_outliers(fetched, "", {}, [done](Status) { done(); });
               });
}

void PduIntake::process_in_order(const std::string& origin, IdList pdus, size_t index,
                                 std::function<void()> done) {
  if (index == pdus->size()) return done();
  auto alive = alive_;
  process(origin, (*pdus)[index], false,
          [this, alive, origin, pdus, index, done](Outcome outcome) {
            if (!*alive) return;
            if (outcome.error) {
              spdlog::info("federation: a missing event from {} was not taken: {}", origin,
                           *outcome.error);
            }
            process_in_order(origin, pdus, index + 1, done);
          });
}

void PduIntake::state_from_remote(const std::string& origin, const rooms::EventPtr& event,
                                  IdList missing, size_t index, StatusDone done) {
  if (index == missing->size()) return done({});
  const std::string prev_id = (*missing)[index];
  auto alive = alive_;
  remote_.state_ids(
      origin, event->room_id(), prev_id,
      [this, alive, origin, event, missing, index, prev_id, done](Result<RemoteStateIds> ids) {
        if (!*alive) return;
        if (!ids.ok()) {
          return done(Error::unknown("Cannot get the state at " + prev_id + ": " +
                                     ids.error().message));
        }
        std::vector<std::string> wanted;
        std::set<std::string> seen;
        auto want = [&](const std::string& id) {
          if (seen.insert(id).second && !known(id, true)) wanted.push_back(id);
        };
        want(prev_id);
        for (const auto& id : ids->pdu_ids) want(id);
        for (const auto& id : ids->auth_chain_ids) want(id);
        if (wanted.size() > kMaxFetchedEvents) {
          return done(Error::unknown("The state at " + prev_id + " is too large to fetch"));
        }
        auto list = std::make_shared<std::vector<std::string>>(std::move(wanted));
        auto fetched = std::make_shared<std::vector<Checked>>();
        auto state_ids = ids->pdu_ids;
        fetch_events(origin, event->version(), event->room_id(), list, 0, fetched,
                     [this, alive, origin, event, missing, index, prev_id, fetched, state_ids,
                      done] {
                       if (!*alive) return;
                       store_outliers(fetched, prev_id, state_ids,
                                      [this, alive, origin, event, missing, index,
                                       done](Status stored) {
                                        if (!*alive) return;
                                        if (!stored.ok()) return done(stored);
                                        state_from_remote(origin, event, missing, index + 1,
                                                          done);
                                      });
                     });
      });
}

void PduIntake::fetch_events(const std::string& origin, const rooms::RoomVersion& version,
                             const std::string& room_id, IdList ids, size_t index,
                             std::shared_ptr<std::vector<Checked>> fetched,
                             std::function<void()> done) {
  if (index == ids->size()) return done();
  auto alive = alive_;
  const std::string id = (*ids)[index];
  auto next = [this, alive, origin, &version, room_id, ids, index, fetched, done] {
    if (*alive) fetch_events(origin, version, room_id, ids, index + 1, fetched, done);
  };
  remote_.event(origin, id, [this, alive, id, &version, room_id, ids, fetched, next](
                                Result<std::string> pdu) {
    if (!*alive) return;
    if (!pdu.ok()) return next();
    auto event = rooms::Event::parse_pdu(*pdu, version);
    if (!event.ok() || (*event)->event_id() != id || (*event)->room_id() != room_id) {
      return next();
    }
    check_signatures(*event, [this, ids, fetched, next](Result<Checked> checked) {
      if (!checked.ok()) return next();
      // Its auth events this server lacks are fetched too (the auth chain, bounded).
      for (const std::string& auth_id : checked->event->auth_events()) {
        if (ids->size() >= kMaxFetchedEvents) break;
        if (std::find(ids->begin(), ids->end(), auth_id) == ids->end() && !known(auth_id, true)) {
          ids->push_back(auth_id);
        }
      }
      fetched->push_back(std::move(*checked));
      next();
    });
  });
}

void PduIntake::store_outliers(std::shared_ptr<std::vector<Checked>> fetched,
                               const std::string& prev_id, std::vector<std::string> state_ids,
                               StatusDone done) {
  std::stable_sort(fetched->begin(), fetched->end(), [](const Checked& a, const Checked& b) {
    return a.event->depth() < b.event->depth();
  });
  write<bool>(
      store_,
      [fetched, prev_id, state_ids](storage::WriteTxn& txn) -> Result<bool> {
        // Auth events first: each pass stores the events whose auth events are all settled.
        std::vector<const Checked*> pending;
        for (const Checked& c : *fetched) pending.push_back(&c);
        while (!pending.empty()) {
          std::vector<const Checked*> later;
          for (const Checked* c : pending) {
            bool ready = std::all_of(
                c->event->auth_events().begin(), c->event->auth_events().end(),
                [&](const std::string& id) {
                  return rooms::get_event(txn, id) || rooms::rejected_event(txn, id);
                });
            if (!ready) {
              later.push_back(c);
              continue;
            }
            auto r = rooms::receive_outlier(txn, c->event, c->redacted);
            if (!r.ok()) return std::move(r).error();
          }
          if (later.size() == pending.size()) break;  // the rest cite events nobody gave
          pending = std::move(later);
        }
        if (prev_id.empty()) return true;
        if (!rooms::get_event(txn, prev_id)) {
          return Error::unknown("The prev event " + prev_id + " could not be had");
        }
        HAVEN_TRY(rooms::record_state_after_outlier(txn, prev_id, state_ids));
        return true;
      },
      [alive = alive_, done](Result<bool> r) {
        if (!*alive) return;
        if (!r.ok()) return done(std::move(r).error());
        done({});
      });
}

void PduIntake::commit(const Checked& checked, Done done) {
  rooms::EventPtr event = checked.event;
  bool redacted = checked.redacted;
  write<rooms::ReceivedEvent>(
      store_,
      [event, redacted, policy = policy_](storage::WriteTxn& txn) {
        return rooms::receive_event(txn, event, redacted, policy);
      },
      [this, alive = alive_, event, done](Result<rooms::ReceivedEvent> r) {
        if (*alive) done(stored_outcome(event, std::move(r)));
      });
}

}  // namespace haven::federation
