#include "homeserver/rooms/auth_rules.h"

#include <algorithm>
#include <set>

#include "homeserver/rooms/auth_internal.h"
#include "homeserver/rooms/ids.h"
#include "homeserver/rooms/json_util.h"

namespace haven::rooms {

namespace {

using detail::AuthContext;
using detail::reject;

bool has_third_party_invite(const Event& event) {
  return event.type() == "m.room.member" && event.membership() == "invite" &&
         detail::member(event.content(), "third_party_invite");
}

Status check_signatures_present(const Event& event, const RoomVersion& version) {
  const rapidjson::Value* sigs = detail::member(event.json(), "signatures");
  for (const std::string& server : servers_required_to_sign(event, version)) {
    const rapidjson::Value* by_server = sigs ? detail::member(*sigs, server) : nullptr;
    if (!by_server || !by_server->IsObject() || by_server->MemberCount() == 0) {
      return reject("Event is not signed by " + server);
    }
  }
  return {};
}

Status check_create(const Event& event, const RoomVersion& version) {
  if (!event.prev_events().empty()) return reject("The create event has prev_events");
  if (version.room_id_from_create_event) {
    if (detail::member(event.json(), "room_id")) return reject("The create event has a room_id");
  } else if (server_name_of(event.room_id()) != server_name_of(event.sender())) {
    return reject("The room id's domain does not match the create event's sender");
  }
  if (const rapidjson::Value* rv = detail::member(event.content(), "room_version")) {
    if (!rv->IsString() || !find_room_version(detail::view(*rv))) {
      return reject("The create event names an unknown room version");
    }
  }
  if (version.create_has_creator_field && !detail::member(event.content(), "creator")) {
    return reject("The create event has no creator");
  }
  if (version.creators_privileged) {
    const rapidjson::Value* extra = detail::member(event.content(), "additional_creators");
    if (extra && (!extra->IsArray() || !std::all_of(extra->Begin(), extra->End(), [](auto& u) {
          return u.IsString() && is_valid_user_id(detail::view(u));
        }))) {
      return reject("additional_creators is not a list of user ids");
    }
  }
  return {};
}

// The create event the rules consult, checked against the event's room.
Result<EventPtr> room_create_event(const Event& event, const StateView& state,
                                   const RoomVersion& version) {
  EventPtr create = create_event(state);
  if (!create) return reject("No m.room.create event in the auth state");
  if (version.room_id_from_create_event) {
    if (event.room_id() != "!" + create->event_id().substr(1)) {
      return reject("The room id is not the create event's id");
    }
  } else if (create->room_id() != event.room_id()) {
    return reject("The create event belongs to another room");
  }
  return create;
}

Status check_federate(const Event& event, const Event& create) {
  const rapidjson::Value* federate = detail::member(create.content(), "m.federate");
  if (federate && federate->IsFalse() &&
      server_name_of(event.sender()) != server_name_of(create.sender())) {
    return reject("The room does not federate and the sender is from another server");
  }
  return {};
}

// Rules after the membership rule, for every other event type.
Status check_other(const AuthContext& ctx) {
  const Event& ev = ctx.event;
  if (ctx.sender_membership() != "join") return reject("The sender is not in the room");
  if (ev.type() == "m.room.third_party_invite") {
    if (ctx.sender_level() >= ctx.levels.invite()) return {};
    return reject("The sender's power level is below the invite level");
  }
  if (ctx.levels.event_level(ev.type(), ev.is_state()) > ctx.sender_level()) {
    return reject("The sender's power level is too low to send " + ev.type());
  }
  if (ev.state_key() && !ev.state_key()->empty() && (*ev.state_key())[0] == '@' &&
      *ev.state_key() != ev.sender()) {
    return reject("State keys starting with '@' are reserved for that user");
  }
  if (ev.type() == "m.room.power_levels") return detail::check_power_levels_event(ctx);
  return {};
}

void add_unique(std::vector<StateKey>& keys, std::string_view type, std::string_view state_key) {
  StateKey key{std::string(type), std::string(state_key)};
  if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(std::move(key));
}

void add_member_auth_types(std::vector<StateKey>& keys, const std::string& target,
                           const rapidjson::Value& content, const RoomVersion& version) {
  add_unique(keys, "m.room.member", target);
  auto membership = detail::string_member(content, "membership");
  if (membership == "join" || membership == "invite" || membership == "knock") {
    add_unique(keys, "m.room.join_rules", "");
  }
  if (membership == "invite") {
    const rapidjson::Value* tpi = detail::member(content, "third_party_invite");
    const rapidjson::Value* signed_obj = tpi ? detail::member(*tpi, "signed") : nullptr;
    if (auto token = signed_obj ? detail::string_member(*signed_obj, "token") : std::nullopt) {
      add_unique(keys, "m.room.third_party_invite", *token);
    }
  }
  if (membership == "join" && version.restricted_join) {
    if (auto via = detail::string_member(content, "join_authorised_via_users_server")) {
      add_unique(keys, "m.room.member", *via);
    }
  }
}

}  // namespace

Status check_auth(const Event& event, const StateView& auth_state, const RoomVersion& version) {
  HAVEN_TRY(check_signatures_present(event, version));
  if (event.type() == "m.room.create") return check_create(event, version);
  auto create = room_create_event(event, auth_state, version);
  if (!create.ok()) return std::move(create).error();
  HAVEN_TRY(check_federate(event, **create));
  AuthContext ctx{event, auth_state, version, **create, power_levels(auth_state, version)};
  if (event.type() == "m.room.member") return detail::check_membership(ctx);
  return check_other(ctx);
}

std::vector<StateKey> auth_types_for_event(std::string_view type, std::string_view sender,
                                           const std::optional<std::string>& state_key,
                                           const rapidjson::Value& content,
                                           const RoomVersion& version) {
  std::vector<StateKey> keys;
  if (type == "m.room.create") return keys;
  if (!version.room_id_from_create_event) add_unique(keys, "m.room.create", "");
  add_unique(keys, "m.room.power_levels", "");
  add_unique(keys, "m.room.member", sender);
  if (type == "m.room.member" && state_key) {
    add_member_auth_types(keys, *state_key, content, version);
  }
  return keys;
}

Result<StateMap> auth_state_from_auth_events(const Event& event,
                                             const std::vector<EventPtr>& auth_events,
                                             const RoomVersion& version, EventPtr room_create) {
  auto allowed = auth_types_for_event(event.type(), event.sender(), event.state_key(),
                                      event.content(), version);
  StateMap state;
  std::set<std::string_view> given;
  for (const EventPtr& ae : auth_events) {
    if (!ae || !ae->state_key()) return reject("An auth event is not a state event");
    const std::vector<std::string>& named = event.auth_events();
    if (std::find(named.begin(), named.end(), ae->event_id()) == named.end()) {
      return reject("Auth event " + ae->event_id() + " is not among the event's auth_events");
    }
    if (ae->room_id() != event.room_id()) return reject("An auth event is from another room");
    if (state.contains(ae->type(), *ae->state_key())) {
      return reject("Duplicate auth events for " + ae->type());
    }
    StateKey key{ae->type(), *ae->state_key()};
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return reject("Auth event for " + ae->type() + " was not expected");
    }
    given.insert(ae->event_id());
    state.set(ae);
  }
  if (given.size() != event.auth_events().size()) {
    return reject("Some auth events are missing or rejected");
  }
  if (version.room_id_from_create_event) {
    if (room_create) state.set(std::move(room_create));
  } else if (!state.contains("m.room.create", "")) {
    return reject("The auth events do not include the create event");
  }
  return state;
}

std::vector<std::string> servers_required_to_sign(const Event& event, const RoomVersion& version) {
  std::vector<std::string> out;
  if (!has_third_party_invite(event)) out.emplace_back(server_name_of(event.sender()));
  if (event.type() != "m.room.member") return out;
  if (auto via = detail::string_member(event.content(), "join_authorised_via_users_server")) {
    std::string server(server_name_of(*via));
    if (std::find(out.begin(), out.end(), server) == out.end()) out.push_back(std::move(server));
  }
  return out;
}

}  // namespace haven::rooms
