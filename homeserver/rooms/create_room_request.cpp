// Parsing of the POST /createRoom body into a CreateRoomRequest (declared in create_room.h).
#include <algorithm>

#include "homeserver/rooms/create_room.h"
#include "homeserver/rooms/ids.h"
#include "homeserver/rooms/json_util.h"
#include "homeserver/rooms/power_levels.h"

namespace haven::rooms {

namespace {

// The field, or nullptr when absent or null (clients send null for "not given").
const rapidjson::Value* field(const rapidjson::Value& body, std::string_view key) {
  const rapidjson::Value* v = detail::member(body, key);
  return v && !v->IsNull() ? v : nullptr;
}

Result<std::optional<std::string>> optional_string(const rapidjson::Value& body,
                                                   std::string_view key) {
  const rapidjson::Value* v = field(body, key);
  if (!v) return std::optional<std::string>();
  if (!v->IsString()) return Error::bad_json("'" + std::string(key) + "' must be a string");
  return std::optional<std::string>(detail::view(*v));
}

Result<rapidjson::Document> optional_object(const rapidjson::Value& body, std::string_view key) {
  rapidjson::Document d(rapidjson::kObjectType);
  const rapidjson::Value* v = field(body, key);
  if (!v) return d;
  if (!v->IsObject()) return Error::bad_json("'" + std::string(key) + "' must be an object");
  d.CopyFrom(*v, d.GetAllocator());
  return d;
}

Result<std::vector<std::string>> user_id_list(const rapidjson::Value* list, std::string_view what) {
  std::vector<std::string> out;
  if (!list) return out;
  if (!list->IsArray()) return Error::bad_json("'" + std::string(what) + "' must be a list");
  for (auto& u : list->GetArray()) {
    if (!u.IsString()) return Error::bad_json("'" + std::string(what) + "' holds a non-string");
    if (!is_valid_user_id(detail::view(u))) {
      return Error::invalid_param("'" + std::string(detail::view(u)) + "' is not a user id");
    }
    if (std::find(out.begin(), out.end(), detail::view(u)) == out.end()) {
      out.emplace_back(detail::view(u));
    }
  }
  return out;
}

Status check_alias_localpart(const std::string& name) {
  bool bad_char = std::any_of(name.begin(), name.end(), [](char c) {
    return c == ':' || c == '\0' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
  });
  if (name.empty() || bad_char || !is_valid_utf8(name)) {
    return Error::invalid_param("Invalid characters in room_alias_name");
  }
  return {};
}

Result<RoomPreset> preset_of(const rapidjson::Value& body, bool visibility_public) {
  auto preset = optional_string(body, "preset");
  if (!preset.ok()) return std::move(preset).error();
  if (!*preset) return visibility_public ? RoomPreset::kPublicChat : RoomPreset::kPrivateChat;
  if (**preset == "private_chat") return RoomPreset::kPrivateChat;
  if (**preset == "trusted_private_chat") return RoomPreset::kTrustedPrivateChat;
  if (**preset == "public_chat") return RoomPreset::kPublicChat;
  return Error::invalid_param("Unknown preset '" + **preset + "'");
}

Result<InitialStateEvent> parse_state_event(const rapidjson::Value& e) {
  if (!e.IsObject()) return Error::bad_json("initial_state entries must be objects");
  InitialStateEvent out;
  auto type = detail::string_member(e, "type");
  if (!type) return Error::bad_json("initial_state entries need a string 'type'");
  out.type = std::string(*type);
  if (const rapidjson::Value* sk = field(e, "state_key")) {
    if (!sk->IsString()) return Error::bad_json("initial_state 'state_key' must be a string");
    out.state_key = std::string(detail::view(*sk));
  }
  const rapidjson::Value* content = detail::member(e, "content");
  if (!content || !content->IsObject()) {
    return Error::bad_json("initial_state entries need an object 'content'");
  }
  out.content.CopyFrom(*content, out.content.GetAllocator());
  return out;
}

Status parse_initial_state(const rapidjson::Value& body, CreateRoomRequest& req) {
  const rapidjson::Value* list = field(body, "initial_state");
  if (!list) return {};
  if (!list->IsArray()) return Error::bad_json("'initial_state' must be a list");
  for (auto& e : list->GetArray()) {
    auto parsed = parse_state_event(e);
    if (!parsed.ok()) return std::move(parsed).error();
    req.initial_state.push_back(std::move(parsed.value()));
  }
  return {};
}

Status parse_visibility(const rapidjson::Value& body, CreateRoomRequest& req) {
  auto visibility = optional_string(body, "visibility");
  if (!visibility.ok()) return std::move(visibility).error();
  if (*visibility && **visibility != "public" && **visibility != "private") {
    return Error::invalid_param("'visibility' must be 'public' or 'private'");
  }
  req.visibility_public = *visibility == "public";
  auto preset = preset_of(body, req.visibility_public);
  if (!preset.ok()) return std::move(preset).error();
  req.preset = *preset;
  return {};
}

Status parse_texts(const rapidjson::Value& body, CreateRoomRequest& req) {
  auto alias = optional_string(body, "room_alias_name");
  if (!alias.ok()) return std::move(alias).error();
  if (*alias) HAVEN_TRY(check_alias_localpart(**alias));
  req.room_alias_name = std::move(*alias);
  auto name = optional_string(body, "name");
  if (!name.ok()) return std::move(name).error();
  req.name = std::move(*name);
  auto topic = optional_string(body, "topic");
  if (!topic.ok()) return std::move(topic).error();
  req.topic = std::move(*topic);
  return {};
}

Status parse_version(const rapidjson::Value& body, CreateRoomRequest& req) {
  auto version = optional_string(body, "room_version");
  if (!version.ok()) return std::move(version).error();
  if (*version && !find_room_version(**version)) {
    return Error::with(400, "M_UNSUPPORTED_ROOM_VERSION",
                       "Room version '" + **version + "' is not supported");
  }
  req.room_version = std::move(*version);
  return {};
}

Status parse_contents(const rapidjson::Value& body, CreateRoomRequest& req) {
  auto creation = optional_object(body, "creation_content");
  if (!creation.ok()) return std::move(creation).error();
  req.creation_content = std::move(creation.value());
  auto creators =
      user_id_list(field(req.creation_content, "additional_creators"), "additional_creators");
  if (!creators.ok()) return std::move(creators).error();
  auto override_content = optional_object(body, "power_level_content_override");
  if (!override_content.ok()) return std::move(override_content).error();
  req.power_level_content_override = std::move(override_content.value());
  // Every supported version requires integer levels, so any of them checks the shape.
  Status shape = validate_power_levels_content(req.power_level_content_override,
                                               *find_room_version(kDefaultRoomVersion));
  if (!shape.ok()) return Error::bad_json(shape.error().message);
  return {};
}

Status parse_invites(const rapidjson::Value& body, CreateRoomRequest& req) {
  auto invite = user_id_list(field(body, "invite"), "invite");
  if (!invite.ok()) return std::move(invite).error();
  req.invite = std::move(invite.value());
  if (const rapidjson::Value* direct = field(body, "is_direct")) {
    if (!direct->IsBool()) return Error::bad_json("'is_direct' must be a boolean");
    req.is_direct = direct->GetBool();
  }
  if (const rapidjson::Value* tp = field(body, "invite_3pid"); tp && !tp->IsArray()) {
    return Error::bad_json("'invite_3pid' must be a list");
  }
  return {};
}

}  // namespace

Result<CreateRoomRequest> parse_create_room_request(const rapidjson::Value& body) {
  if (!body.IsObject()) return Error::bad_json("The request body must be a JSON object");
  CreateRoomRequest req;
  HAVEN_TRY(parse_visibility(body, req));
  HAVEN_TRY(parse_texts(body, req));
  HAVEN_TRY(parse_version(body, req));
  HAVEN_TRY(parse_contents(body, req));
  HAVEN_TRY(parse_invites(body, req));
  HAVEN_TRY(parse_initial_state(body, req));
  return req;
}

}  // namespace haven::rooms
