// Federation API, resident side of joins and leaves: make_join, send_join (v2), make_leave,
// send_leave (v2).
#include <algorithm>
#include <set>

#include "federation/membership.h"
#include "federation/pdu_checks.h"
#include "homeserver/base/json.h"
#include "homeserver/base/write.h"
#include "homeserver/rooms/auth_rules.h"
#include "homeserver/rooms/event_builder.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/ids.h"
#include "homeserver/rooms/state_at_event.h"

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
  if (ev.event_id() != event_id) {
    return Error::invalid_param("The event id in the path is not the event's id");
  }
  if (ev.room_id() != room_id) return Error::invalid_param("The event is for another room");
  if (ev.type() != "m.room.member") return Error::invalid_param("The event is not m.room.member");
  if (ev.membership() != membership) {
    return Error::invalid_param("The event's membership is not " + membership);
  }
  if (rooms::server_name_of(ev.sender()) != origin) {
    return Error::invalid_param("The sender is not a user of the origin server");
  }
  if (ev.state_key() != ev.sender()) return Error::invalid_param("state_key is not the sender");
  if (!content_hash_matches(ev)) return Error::invalid_param("The event's content hash is wrong");
  return {};
}

rooms::StateMap load_state(storage::ReadTxn& txn, const rooms::StateIds& ids) {
  rooms::StateMap state;
  for (const auto& [key, id] : ids) {
    if (auto ev = rooms::get_event(txn, id)) state.set(ev->event);
  }
  return state;
}

// The auth rules against the event's auth events, then against the state before it (which
// also yields that state, for the send_join answer).
Result<rooms::StateIds> check_auth_and_state(storage::ReadTxn& txn, const rooms::Event& ev,
                                             const rooms::RoomVersion& version) {
  std::vector<rooms::EventPtr> auth;
  for (const auto& id : ev.auth_events()) {
    auto stored = rooms::get_event(txn, id);
    if (!stored) return Error::forbidden("Unknown auth event " + id);
    auth.push_back(stored->event);
  }
  rooms::EventPtr create = rooms::current_state_event(txn, ev.room_id(), "m.room.create", "");
  auto auth_state = rooms::auth_state_from_auth_events(
      ev, auth, version, version.room_id_from_create_event ? create : nullptr);
  if (!auth_state.ok()) return std::move(auth_state).error();
  HAVEN_TRY(rooms::check_auth(ev, *auth_state, version));
  auto before = rooms::state_before_event(txn, version, ev.prev_events());
  if (!before.ok()) return std::move(before).error();
  rooms::StateMap state = load_state(txn, *before);
  HAVEN_TRY(rooms::check_auth(ev, state, version));
  return before;
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

// PUT /_matrix/federation/v2/send_join/{roomId}/{eventId} and send_leave/{roomId}/{eventId}
void Membership::send_membership(const http::ExchangePtr& ex, const std::string& origin,
                                 const std::string& membership) {
  const std::string room_id = ex->params[0];
  const std::string event_id = ex->params[1];
  const rooms::RoomVersion* version = nullptr;
  {
    auto txn = store_.begin_read();
    auto room = txn ? rooms::get_room(*txn, room_id) : std::nullopt;
    if (!room) return ex->reply_error(Error::not_found("This server does not know the room"));
    version = rooms::find_room_version(room->version);
    if (!version) return ex->reply_error(Error::unknown("Room has an unsupported version"));
  }
  auto parsed = rooms::Event::parse_pdu(ex->body(), *version);
  if (!parsed.ok()) return ex->reply_error(parsed.error());
  rooms::EventPtr ev = *parsed;
  if (auto s = check_membership_event(*ev, origin, room_id, event_id, membership); !s.ok()) {
    return ex->reply_error(s.error());
  }
  check_pdu_signatures(keys_, ev, [this, ex, ev, version, membership](Status signed_ok) {
    if (!signed_ok.ok()) {
      return ex->reply_error(Error::invalid_param(signed_ok.error().message));
    }
    auto state_before = std::make_shared<rooms::StateIds>();
    write<bool>(
        store_,
        [this, ev, version, state_before](storage::WriteTxn& txn) -> Result<bool> {
          auto room = rooms::get_room(txn, ev->room_id());
          if (!room) return Error::not_found("This server does not know the room");
          if (rooms::get_event(txn, ev->event_id())) return false;  // a retried send_join
          auto before = check_auth_and_state(txn, *ev, *version);
          if (!before.ok()) return std::move(before).error();
          if (local_.policy) HAVEN_TRY(local_.policy->check_remote(txn, *ev));
          storage::Status status;
          rooms::append_event(txn, *room, *ev, &status);
          HAVEN_TRY(check(status));
          if (local_.policy) HAVEN_TRY(local_.policy->appended(txn, *ev));
          *state_before = std::move(*before);
          return true;
        },
        [this, ex, ev, membership, state_before](Result<bool> r) {
          if (!r.ok()) return ex->reply_error(r.error());
          if (*r) appended_(ev);
          if (membership != "join") return ex->reply_json(200, "{}");
          auto txn = store_.begin_read();
          if (!*r) {
            // Already stored: answer with the state before it again.
            auto before = rooms::state_before_event(*txn, ev->version(), ev->prev_events());
            if (before.ok()) *state_before = std::move(*before);
          }
          auto d = json::object();
          auto& a = d.GetAllocator();
          json::Value state(rapidjson::kArrayType), chain(rapidjson::kArrayType);
          state_and_auth_chain(*txn, *state_before, *ev, state, chain, a);
          json::set(d, "origin", local_.server_name, a);
          json::set(d, "state", std::move(state), a);
          json::set(d, "auth_chain", std::move(chain), a);
          json::set(d, "event", json::Value(ev->json(), a), a);
          json::set(d, "members_omitted", false, a);
          ex->reply_json(200, d);
        });
  });
}

}  // namespace haven::federation
