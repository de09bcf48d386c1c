#include "federation/send_join_response.h"

#include <map>

#include "federation/pdu_checks.h"
#include "homeserver/base/write.h"
#include "homeserver/rooms/auth_rules.h"
#include "homeserver/rooms/event_builder.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/redaction.h"
#include "homeserver/rooms/state_at_event.h"

namespace haven::federation {
namespace {

constexpr size_t kMaxJoinEvents = 200'000;

Error malformed(const std::string& why) {
  return Error::with(502, "M_UNKNOWN", "The resident server's send_join answer: " + why);
}

// A PDU of the answer; its redacted form (and `*redacted` true) when the content hash does
// not match.
rooms::EventPtr read_pdu(const json::Value& value, const rooms::RoomVersion& version,
                         bool* redacted) {
  *redacted = false;
  if (!value.IsObject()) return nullptr;
  rapidjson::Document pdu;
  pdu.CopyFrom(value, pdu.GetAllocator());
  auto ev = rooms::Event::from_json(std::move(pdu), version);
  if (!ev.ok()) return nullptr;
  if (content_hash_matches(**ev)) return *ev;
  auto stripped = rooms::Event::from_json(rooms::redact((*ev)->json(), version), version);
  if (!stripped.ok()) return nullptr;
  *redacted = true;
  return *stripped;
}

bool is_room_create(const rooms::Event& ev, const std::string& room_id,
                    const rooms::RoomVersion& version) {
  if (ev.type() != "m.room.create" || ev.state_key() != "") return false;
  if (version.room_id_from_create_event) return rooms::room_id_from_create_event(ev) == room_id;
  return ev.room_id() == room_id;
}

// Auth-chain order: every event after the events it names in auth_events (iterative DFS).
std::vector<rooms::EventPtr> auth_order(const std::map<std::string, rooms::EventPtr>& events) {
  std::vector<rooms::EventPtr> out;
  std::set<std::string> done, entered;
  for (const auto& [id, ev] : events) {
    std::vector<std::pair<rooms::EventPtr, size_t>> stack{{ev, 0}};
    while (!stack.empty()) {
      auto& [cur, next] = stack.back();
      if (next == 0 &&
          (done.contains(cur->event_id()) || !entered.insert(cur->event_id()).second)) {
        stack.pop_back();
        continue;
      }
      if (next < cur->auth_events().size()) {
        const std::string& auth_id = cur->auth_events()[next++];
        auto it = events.find(auth_id);
        if (it != events.end() && !done.contains(auth_id) && !entered.contains(auth_id)) {
          stack.emplace_back(it->second, 0);
        }
        continue;
      }
      done.insert(cur->event_id());
      out.push_back(cur);
      stack.pop_back();
    }
  }
  return out;
}

Status check_against_auth_events(const rooms::Event& ev,
                                 const std::map<std::string, rooms::EventPtr>& accepted,
                                 const rooms::EventPtr& create, const rooms::RoomVersion& version) {
  if (ev.type() == "m.room.create") {
    rooms::StateMap empty;
    return rooms::check_auth(ev, empty, version);
  }
  std::vector<rooms::EventPtr> auth;
  for (const auto& id : ev.auth_events()) {
    auto it = accepted.find(id);
    if (it == accepted.end())
      return Error::forbidden("Auth event " + id + " is missing or rejected");
    auth.push_back(it->second);
  }
  auto state = rooms::auth_state_from_auth_events(
      ev, auth, version, version.room_id_from_create_event ? create : nullptr);
  if (!state.ok()) return std::move(state).error();
  return rooms::check_auth(ev, *state, version);
}

}  // namespace

Status parse_send_join_response(const json::Value& body, const rooms::RoomVersion& version,
                                const rooms::EventPtr& join, SendJoinResponse* out) {
  out->version = &version;
  out->join = join;
  auto state = body.FindMember("state");
  auto chain = body.FindMember("auth_chain");
  if (state == body.MemberEnd() || !state->value.IsArray() || chain == body.MemberEnd() ||
      !chain->value.IsArray()) {
    return malformed("state and auth_chain must be lists");
  }
  if (state->value.Size() + chain->value.Size() > kMaxJoinEvents) {
    return malformed("too many events");
  }
  std::set<std::string> seen;
  auto add = [&](const json::Value& v, bool in_state) {
    bool redacted = false;
    rooms::EventPtr ev = read_pdu(v, version, &redacted);
    if (!ev) return;
    if (in_state) out->state_ids.insert(ev->event_id());
    if (!seen.insert(ev->event_id()).second) return;
    if (redacted) out->redacted.insert(ev->event_id());
    out->events.push_back(std::move(ev));
  };
  for (const auto& v : state->value.GetArray()) add(v, true);
  for (const auto& v : chain->value.GetArray()) add(v, false);
  // A restricted room's resident countersigns the join: its copy is the one to keep.
  if (auto event = body.FindMember("event"); event != body.MemberEnd()) {
    bool redacted = false;
    rooms::EventPtr signed_join = read_pdu(event->value, version, &redacted);
    if (signed_join && !redacted && signed_join->event_id() == join->event_id()) {
      out->join = signed_join;
    }
  }
  return {};
}

Result<AcceptedJoinState> resolve_send_join_response(const SendJoinResponse& response,
                                                     const std::vector<Status>& signatures,
                                                     const std::string& room_id) {
  const rooms::RoomVersion& version = *response.version;
  std::map<std::string, rooms::EventPtr> candidates;
  rooms::EventPtr create;
  for (size_t i = 0; i < response.events.size(); ++i) {
    const rooms::EventPtr& ev = response.events[i];
    if (i < signatures.size() && !signatures[i].ok()) continue;
    if (is_room_create(*ev, room_id, version)) create = ev;
    bool in_room = ev->type() == "m.room.create" ? ev == create : ev->room_id() == room_id;
    if (in_room) candidates.emplace(ev->event_id(), ev);
  }
  if (!create || !response.state_ids.contains(create->event_id())) {
    return malformed("the state has no valid create event of this room");
  }
  AcceptedJoinState out;
  out.version = &version;
  std::map<std::string, rooms::EventPtr> accepted;
  for (const rooms::EventPtr& ev : auth_order(candidates)) {
    if (!check_against_auth_events(*ev, accepted, create, version).ok()) continue;
    accepted.emplace(ev->event_id(), ev);
    out.events.push_back(ev);
    if (response.redacted.contains(ev->event_id())) out.redacted.insert(ev->event_id());
  }
  rooms::StateMap state;
  for (const std::string& id : response.state_ids) {
    auto it = accepted.find(id);
    if (it == accepted.end() || !it->second->is_state()) continue;
    rooms::StateKey key{it->second->type(), *it->second->state_key()};
    if (out.state.contains(key)) return malformed("the state names " + key.first + " twice");
    out.state.emplace(key, id);
    state.set(it->second);
  }
  out.join = response.join;
  HAVEN_TRY(check_against_auth_events(*out.join, accepted, create, version));
  HAVEN_TRY(rooms::check_auth(*out.join, state, version));
  return out;
}

Result<bool> store_accepted_join(storage::WriteTxn& txn, const AcceptedJoinState& accepted,
                                 const std::string& room_id, const rooms::LocalServer& local) {
  if (rooms::get_event(txn, accepted.join->event_id())) return false;
  for (const rooms::EventPtr& ev : accepted.events) {
    HAVEN_TRY(check(rooms::put_outlier(txn, *ev, accepted.redacted.contains(ev->event_id()))));
  }
  storage::Status status;
  uint64_t group = rooms::put_state_group(txn, 0, accepted.state, &status);
  HAVEN_TRY(check(status));
  auto room = rooms::get_room(txn, room_id);
  if (!room) {
    room.emplace();
    room->room_id = room_id;
    room->version = std::string(accepted.version->id);
  } else if (room->version != accepted.version->id) {
    return Error::unknown("The room's version changed");
  }
  // What this server knew of the room (from before a leave) gives way to the resident's view.
  room->extremities.clear();
  HAVEN_TRY(check(rooms::put_room(txn, *room)));
  auto pos = rooms::append_event_at_state(txn, *room, *accepted.join, {group, false, false});
  if (!pos.ok()) return std::move(pos).error();
  if (local.policy) HAVEN_TRY(local.policy->appended(txn, *accepted.join));
  return true;
}

}  // namespace haven::federation
