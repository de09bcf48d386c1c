// Federation API, resident side of joins and leaves: make_join, send_join (v2), make_leave,
// send_leave (v2).
#include <algorithm>
#include <set>

#include "federation/membership.h"
#include "federation/pdu_checks.h"
#include "federation/server_acl.h"
#include "homeserver/base/json.h"
#include "homeserver/rooms/event_builder.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/ids.h"
#include "homeserver/rooms/server_access.h"

namespace haven::federation {
namespace {

constexpr size_t kMaxAuthChainEvents = 100'000;

Error incompatible_version(const std::string& version) {
  Error e = Error::with(400, "M_INCOMPATIBLE_ROOM_VERSION",
                        "Your server does not support this room's version " + version);
  e.extra_json = "\"room_version\":" +
                 json::to_string(json::Value(rapidjson::StringRef(version.data(), version.size())));
  return e;
}

// The spec's rules on a send_join / send_leave event besides its signatures.
Status check_membership_event(const rooms::Event& ev, const std::string& origin,
                              const std::string& room_id, const std::string& event_id,
                              const std::string& membership) {
  HAVEN_TRY(check_pushed_event(ev, origin, room_id, event_id));
  if (ev.type() != "m.room.member") return Error::invalid_param("The event is not m.room.member");
  if (ev.membership() != membership) {
    return Error::invalid_param("The event's membership is not " + membership);
  }
  if (ev.state_key() != ev.sender()) return Error::invalid_param("state_key is not the sender");
  return {};
}

// The events of `state` and the auth chain of those and of `ev`, as PDUs.
void state_and_auth_chain(storage::ReadTxn& txn, const rooms::StateIds& state,
                          const rooms::Event& ev, json::Value& state_out, json::Value& chain_out,
                          json::Alloc& a) {
  std::vector<std::string> todo(ev.auth_events());
  for (const auto& [key, id] : state) {
    auto stored = rooms::get_event(txn, id);
    if (!stored) continue;
    state_out.PushBack(json::Value(stored->event->json(), a), a);
    for (const auto& auth_id : stored->event->auth_events()) todo.push_back(auth_id);
  }
  std::set<std::string> seen;
  while (!todo.empty() && seen.size() < kMaxAuthChainEvents) {
    std::string id = std::move(todo.back());
    todo.pop_back();
    if (!seen.insert(id).second) continue;
    auto stored = rooms::get_event(txn, id);
    if (!stored) continue;
    chain_out.PushBack(json::Value(stored->event->json(), a), a);
    for (const auto& auth_id : stored->event->auth_events()) todo.push_back(auth_id);
  }
}

}  // namespace

// GET /_matrix/federation/v1/make_join/{roomId}/{userId} and make_leave/{roomId}/{userId}
void Membership::make_membership(const http::ExchangePtr& ex, const std::string& origin,
                                 const std::string& membership) {
  const std::string& room_id = ex->params[0];
  const std::string& user_id = ex->params[1];
  if (!rooms::is_valid_room_id(room_id))
    return ex->reply_error(Error::invalid_param("Bad room id"));
  if (!rooms::is_valid_user_id(user_id))
    return ex->reply_error(Error::invalid_param("Bad user id"));
  if (rooms::server_name_of(user_id) != origin) {
    return ex->reply_error(Error::forbidden("The user is not a user of the origin server"));
  }
  auto txn = store_.begin_read();
  auto room = txn ? rooms::get_room(*txn, room_id) : std::nullopt;
  if (!room) return ex->reply_error(Error::not_found("This server does not know the room"));
  if (auto s = check_server_acl(*txn, room_id, origin); !s.ok()) return ex->reply_error(s.error());
  const rooms::RoomVersion* version = rooms::find_room_version(room->version);
  if (!version) return ex->reply_error(Error::unknown("Room has an unsupported version"));
  if (membership == "join") {
    auto supported = ex->query_all("ver");
    if (std::find(supported.begin(), supported.end(), version->id) == supported.end()) {
      return ex->reply_error(incompatible_version(std::string(version->id)));
    }
  }
  rooms::EventDraft draft;
  draft.room_id = room_id;
  draft.sender = user_id;
  draft.type = "m.room.member";
  draft.state_key = user_id;
  json::set(draft.content, "membership", membership, draft.content.GetAllocator());
  draft.origin_server_ts = now_ms();
  rooms::CurrentStateView state(*txn, room_id);
  auto event =
      rooms::build_event_template(draft, room->extremities, room->depth + 1, state, *version);
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "room_version", std::string(version->id), a);
  json::set(d, "event", json::Value(event, a), a);
  ex->reply_json(200, d);
}

// PUT /_matrix/federation/v2/send_join/{roomId}/{eventId} and send_leave/{roomId}/{eventId}:
// the event goes through the PDU intake like any received PDU; the care rules come first.
void Membership::send_membership(const http::ExchangePtr& ex, const std::string& origin,
                                 const std::string& membership) {
  const std::string room_id = ex->params[0];
  const std::string event_id = ex->params[1];
  if (!intake_) return ex->reply_error(Error::unknown("This server does not receive events"));
  rooms::EventPtr ev;
  {
    auto txn = store_.begin_read();
    auto room = txn ? rooms::get_room(*txn, room_id) : std::nullopt;
    if (!room) return ex->reply_error(Error::not_found("This server does not know the room"));
    if (auto s = check_server_acl(*txn, room_id, origin); !s.ok()) {
      return ex->reply_error(s.error());
    }
    const rooms::RoomVersion* version = rooms::find_room_version(room->version);
    if (!version) return ex->reply_error(Error::unknown("Room has an unsupported version"));
    auto parsed = rooms::Event::parse_pdu(ex->body(), *version);
    if (!parsed.ok()) return ex->reply_error(parsed.error());
    ev = *parsed;
    if (auto s = check_membership_event(*ev, origin, room_id, event_id, membership); !s.ok()) {
      return ex->reply_error(s.error());
    }
    if (local_.policy) {
      if (auto s = local_.policy->check_remote(*txn, *ev); !s.ok()) return ex->reply_error(s.error());
    }
  }
  intake_->receive(origin, ex->body(), [this, ex, ev, membership](PduIntake::Outcome outcome) {
    using Stored = rooms::ReceivedEvent::Outcome;
    std::string why = outcome.error.value_or("not allowed by the room's current state");
    // Dropped before the auth rules: its format or its signatures.
    if (!outcome.stored) return ex->reply_error(Error::invalid_param(why));
    bool refused = *outcome.stored == Stored::kRejected || *outcome.stored == Stored::kSoftFailed;
    if (*outcome.stored == Stored::kAlreadyKnown) {
      auto txn = store_.begin_read();
      refused = !txn || rooms::rejected_event(*txn, ev->event_id()).has_value();
    }
    if (refused) return ex->reply_error(Error::forbidden("The " + membership + " was refused: " + why));
    // The resident sends the join (leave) on to the room's other servers.
    if (outbox_ && *outcome.stored == Stored::kAccepted) outbox_->send_pdu(ev);
    if (membership != "join") return ex->reply_json(200, "{}");
    auto txn = store_.begin_read();
    auto before = rooms::state_ids_before(*txn, *ev);
    if (!before) return ex->reply_error(Error::unknown("The state before the join is not known"));
    auto d = json::object();
    auto& a = d.GetAllocator();
    json::Value state(rapidjson::kArrayType), chain(rapidjson::kArrayType);
    state_and_auth_chain(*txn, *before, *ev, state, chain, a);
    json::set(d, "origin", local_.server_name, a);
    json::set(d, "state", std::move(state), a);
    json::set(d, "auth_chain", std::move(chain), a);
    json::set(d, "event", json::Value(ev->json(), a), a);
    json::set(d, "members_omitted", false, a);
    ex->reply_json(200, d);
  });
}

}  // namespace haven::federation
