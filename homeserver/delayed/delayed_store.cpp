#include "homeserver/delayed/delayed_store.h"

#include <algorithm>

#include "homeserver/base/json.h"
#include "homeserver/base/write.h"
#include "storage/keys.h"
#include "storage/sealed.h"

namespace haven::delayed {

namespace {

using storage::Direction;
using storage::KeyBuilder;
using storage::KeyReader;
using storage::Table;

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kScheduled:
      return "scheduled";
    case Outcome::kSent:
      return "sent";
    case Outcome::kCancelled:
      return "cancelled";
    case Outcome::kFailed:
      return "failed";
  }
  return "scheduled";
}

std::optional<Outcome> outcome_of(std::string_view name) {
  for (Outcome o : {Outcome::kScheduled, Outcome::kSent, Outcome::kCancelled, Outcome::kFailed}) {
    if (name == outcome_name(o)) return o;
  }
  return std::nullopt;
}

std::string due_key(const DelayedEvent& e) {
  return KeyBuilder().u64(static_cast<uint64_t>(std::max<int64_t>(e.due_ms(), 0)))
      .tail(e.delay_id)
      .take();
}

std::string user_key(const DelayedEvent& e) {
  return KeyBuilder().str(e.user_id).tail(e.delay_id).take();
}

std::string state_key_of(const DelayedEvent& e) {
  return KeyBuilder().str(e.room_id).str(e.type).str(*e.state_key).tail(e.delay_id).take();
}

// A record is stored as kSealedMark, room_id '\0', then its JSON sealed with the room's at-rest
// key (it holds the content the client gave). Records from before at-rest keys are plain JSON.
constexpr char kSealedMark = '\x01';

Status put_record(storage::WriteTxn& txn, const DelayedEvent& e) {
  storage::Status s;
  auto sealed = storage::seal(txn, e.room_id, e.delay_id, e.to_json(), &s);
  if (!sealed) return check(s);
  std::string value(1, kSealedMark);
  value.append(KeyBuilder().str(e.room_id).build());
  value.append(*sealed);
  return check(txn.put(Table::kDelayedEvents, e.delay_id, value));
}

// The room a stored record belongs to: a sealed record names it before its sealed part; a
// plain one (written before at-rest sealing) in its JSON.
std::string room_of_record(std::string_view value) {
  if (value.empty() || value[0] != kSealedMark) {
    auto plain = DelayedEvent::from_json(value);
    return plain ? plain->room_id : std::string();
  }
  KeyReader r(value.substr(1));
  return std::string(r.str().value_or(std::string_view()));
}

// Forgets the user's finalised records older than the retention, and the oldest beyond the
// most kept per user.
Status prune_finalised(storage::WriteTxn& txn, std::string_view user_id, int64_t now) {
  std::vector<std::pair<int64_t, std::string>> finalised;  // (finalised_ts, delay_id)
  std::vector<std::string> stale;
  const std::string prefix = KeyBuilder().str(user_id).take();
  txn.scan(Table::kDelayedByUser, prefix, {}, Direction::kForward,
           [&](std::string_view key, std::string_view) {
             std::string id(key.substr(prefix.size()));
             auto e = get(txn, id);
             if (!e || (e->outcome != Outcome::kScheduled &&
                        e->finalised_ts + kFinalisedRetentionMs < now)) {
               stale.push_back(std::move(id));
             } else if (e->outcome != Outcome::kScheduled) {
               finalised.emplace_back(e->finalised_ts, std::move(id));
             }
             return true;
           });
  if (finalised.size() > kMaxFinalisedPerUser) {
    std::sort(finalised.begin(), finalised.end());
    for (size_t i = 0; i < finalised.size() - kMaxFinalisedPerUser; ++i) {
      stale.push_back(finalised[i].second);
    }
  }
  for (const auto& id : stale) {
    HAVEN_TRY(check(txn.del(Table::kDelayedEvents, id)));
    HAVEN_TRY(check(txn.del(Table::kDelayedByUser, KeyBuilder().str(user_id).tail(id).take())));
  }
  return {};
}

}  // namespace

std::string DelayedEvent::to_json() const {
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "delay_id", delay_id, a);
  json::set(d, "user_id", user_id, a);
  json::set(d, "device_id", device_id, a);
  json::set(d, "room_id", room_id, a);
  json::set(d, "type", type, a);
  if (state_key) json::set(d, "state_key", *state_key, a);
  json::set(d, "content", content_json, a);
  json::set(d, "delay_ms", delay_ms, a);
  json::set(d, "scheduled_at", scheduled_at, a);
  json::set(d, "outcome", outcome_name(outcome), a);
  if (!event_id.empty()) json::set(d, "event_id", event_id, a);
  if (!error_json.empty()) json::set(d, "error", error_json, a);
  if (finalised_ts) json::set(d, "finalised_ts", finalised_ts, a);
  return json::to_string(d);
}

std::optional<DelayedEvent> DelayedEvent::from_json(std::string_view text) {
  auto d = json::parse_object(text);
  if (!d.ok()) return std::nullopt;
  const auto& v = *d;
  DelayedEvent e;
  e.delay_id = json::get_string(v, "delay_id");
  e.user_id = json::get_string(v, "user_id");
  e.device_id = json::get_string(v, "device_id");
  e.room_id = json::get_string(v, "room_id");
  e.type = json::get_string(v, "type");
  if (v.HasMember("state_key") && v["state_key"].IsString()) {
    e.state_key = json::get_string(v, "state_key");
  }
  e.content_json = json::get_string(v, "content", "{}");
  e.delay_ms = json::get_int(v, "delay_ms");
  e.scheduled_at = json::get_int(v, "scheduled_at");
  auto outcome = outcome_of(json::get_string(v, "outcome"));
  if (!outcome || e.delay_id.empty()) return std::nullopt;
  e.outcome = *outcome;
  e.event_id = json::get_string(v, "event_id");
  e.error_json = json::get_string(v, "error");
  e.finalised_ts = json::get_int(v, "finalised_ts");
  return e;
}

std::optional<DelayedEvent> get(storage::ReadTxn& txn, std::string_view delay_id) {
  auto raw = txn.get(Table::kDelayedEvents, delay_id);
  if (!raw) return std::nullopt;
  if (raw->empty() || (*raw)[0] != kSealedMark) return DelayedEvent::from_json(*raw);
  KeyReader r(raw->substr(1));
  auto room_id = r.str();
  if (!room_id) return std::nullopt;
  auto text = storage::open_sealed(txn, *room_id, delay_id, r.tail());
  if (!text) return std::nullopt;  // its room was purged
  return DelayedEvent::from_json(*text);
}

Status delete_room_delayed(storage::WriteTxn& txn, std::string_view room_id) {
  std::vector<std::string> ids;
  txn.scan(Table::kDelayedEvents, {}, {}, Direction::kForward,
           [&](std::string_view key, std::string_view value) {
             if (room_of_record(value) == room_id) ids.emplace_back(key);
             return true;
           });
  for (const std::string& id : ids) {
    if (auto e = get(txn, id)) {
      HAVEN_TRY(check(txn.del(Table::kDelayedDue, due_key(*e))));
      HAVEN_TRY(check(txn.del(Table::kDelayedByUser, user_key(*e))));
      if (e->state_key) HAVEN_TRY(check(txn.del(Table::kDelayedByState, state_key_of(*e))));
    }
    HAVEN_TRY(check(txn.del(Table::kDelayedEvents, id)));
  }
  return {};
}

Status schedule(storage::WriteTxn& txn, const DelayedEvent& e) {
  HAVEN_TRY(put_record(txn, e));
  HAVEN_TRY(check(txn.put(Table::kDelayedDue, due_key(e), "")));
  HAVEN_TRY(check(txn.put(Table::kDelayedByUser, user_key(e), "")));
  if (e.state_key) HAVEN_TRY(check(txn.put(Table::kDelayedByState, state_key_of(e), e.user_id)));
  return {};
}

Status restart(storage::WriteTxn& txn, DelayedEvent& e, int64_t now) {
  HAVEN_TRY(check(txn.del(Table::kDelayedDue, due_key(e))));
  e.scheduled_at = now;
  HAVEN_TRY(check(txn.put(Table::kDelayedDue, due_key(e), "")));
  HAVEN_TRY(put_record(txn, e));
  return {};
}

Status finalise(storage::WriteTxn& txn, DelayedEvent& e, Outcome outcome, int64_t now,
                std::string event_id, std::string error_json) {
  HAVEN_TRY(check(txn.del(Table::kDelayedDue, due_key(e))));
  if (e.state_key) HAVEN_TRY(check(txn.del(Table::kDelayedByState, state_key_of(e))));
  e.outcome = outcome;
  e.finalised_ts = now;
  e.event_id = std::move(event_id);
  e.error_json = std::move(error_json);
  HAVEN_TRY(put_record(txn, e));
  return prune_finalised(txn, e.user_id, now);
}

std::vector<DelayedEvent> scheduled_of_user(storage::ReadTxn& txn, std::string_view user_id) {
  std::vector<DelayedEvent> out;
  const std::string prefix = KeyBuilder().str(user_id).take();
  txn.scan(Table::kDelayedByUser, prefix, {}, Direction::kForward,
           [&](std::string_view key, std::string_view) {
             auto e = get(txn, key.substr(prefix.size()));
             if (e && e->outcome == Outcome::kScheduled) out.push_back(std::move(*e));
             return true;
           });
  std::stable_sort(out.begin(), out.end(), [](const DelayedEvent& a, const DelayedEvent& b) {
    return a.due_ms() < b.due_ms();
  });
  return out;
}

std::optional<int64_t> earliest_due(storage::ReadTxn& txn) {
  std::optional<int64_t> due;
  txn.scan(Table::kDelayedDue, {}, {}, Direction::kForward, [&](std::string_view key, auto) {
    KeyReader r(key);
    if (auto ms = r.u64()) due = static_cast<int64_t>(*ms);
    return false;
  });
  return due;
}

std::vector<std::string> due_by(storage::ReadTxn& txn, int64_t now, size_t limit) {
  std::vector<std::string> ids;
  txn.scan(Table::kDelayedDue, {}, {}, Direction::kForward, [&](std::string_view key, auto) {
    KeyReader r(key);
    auto ms = r.u64();
    if (!ms || static_cast<int64_t>(*ms) > now) return false;
    ids.emplace_back(r.tail());
    return ids.size() < limit;
  });
  return ids;
}

std::vector<std::string> others_at_state(storage::ReadTxn& txn, std::string_view room_id,
                                         std::string_view type, std::string_view state_key,
                                         std::string_view sender) {
  std::vector<std::string> ids;
  const std::string prefix = KeyBuilder().str(room_id).str(type).str(state_key).take();
  txn.scan(Table::kDelayedByState, prefix, {}, Direction::kForward,
           [&](std::string_view key, std::string_view owner) {
             if (owner != sender) ids.emplace_back(key.substr(prefix.size()));
             return true;
           });
  return ids;
}

}  // namespace haven::delayed
