#include "homeserver/rooms/create_room.h"

#include <algorithm>

#include "homeserver/rooms/ids.h"
#include "homeserver/rooms/json_util.h"
#include "homeserver/rooms/power_levels.h"

namespace haven::rooms {

namespace {

using detail::Alloc;
using detail::str;

struct PlanContext {
  const CreateRoomRequest& request;
  std::string_view creator;
  const RoomVersion& version;
  std::string_view server_name;
  const CreateRoomOptions& options;
  std::vector<EventDraft> drafts;

  void add(std::string_view type, std::string_view state_key, rapidjson::Document content) {
    EventDraft d;
    d.room_id = version.room_id_from_create_event ? std::string() : options.room_id;
    d.sender = std::string(creator);
    d.type = std::string(type);
    d.state_key = std::string(state_key);
    d.content = std::move(content);
    d.origin_server_ts = options.now_ms;
    drafts.push_back(std::move(d));
  }
  bool in_initial_state(std::string_view type, std::string_view state_key = "") const {
    return std::any_of(
        request.initial_state.begin(), request.initial_state.end(),
        [&](const InitialStateEvent& e) { return e.type == type && e.state_key == state_key; });
  }
};

rapidjson::Document object_with(std::string_view key, std::string_view value) {
  rapidjson::Document d(rapidjson::kObjectType);
  d.AddMember(str(key, d.GetAllocator()), str(value, d.GetAllocator()), d.GetAllocator());
  return d;
}

rapidjson::Document copy_of(const rapidjson::Value& v) {
  rapidjson::Document d;
  d.CopyFrom(v, d.GetAllocator());
  return d;
}

// v12: creation_content's additional_creators, plus the invitees of a trusted private chat.
void set_additional_creators(const PlanContext& p, rapidjson::Document& content) {
  std::vector<std::string> users;
  const rapidjson::Value* given = detail::member(content, "additional_creators");
  if (given && given->IsArray()) {
    for (auto& u : given->GetArray()) {
      if (u.IsString()) users.emplace_back(detail::view(u));
    }
  }
  if (p.request.preset == RoomPreset::kTrustedPrivateChat) {
    users.insert(users.end(), p.request.invite.begin(), p.request.invite.end());
  }
  if (!given && users.empty()) return;
  Alloc& a = content.GetAllocator();
  rapidjson::Value list(rapidjson::kArrayType);
  std::vector<std::string> seen;
  for (const std::string& u : users) {
    if (u == p.creator || std::find(seen.begin(), seen.end(), u) != seen.end()) continue;
    seen.push_back(u);
    list.PushBack(str(u, a), a);
  }
  detail::set_member(content, "additional_creators", std::move(list), a);
}

void add_create(PlanContext& p) {
  rapidjson::Document content = copy_of(p.request.creation_content);
  if (!content.IsObject()) content.SetObject();
  Alloc& a = content.GetAllocator();
  detail::remove_member(content, "creator");
  if (p.version.create_has_creator_field) {
    content.AddMember("creator", str(p.creator, a), a);
  }
  detail::set_member(content, "room_version", str(p.version.id, a), a);
  if (p.version.creators_privileged) set_additional_creators(p, content);
  p.add("m.room.create", "", std::move(content));
}

void add_creator_join(PlanContext& p) {
  rapidjson::Document content = object_with("membership", "join");
  Alloc& a = content.GetAllocator();
  if (p.options.creator_displayname) {
    content.AddMember("displayname", str(*p.options.creator_displayname, a), a);
  }
  if (p.options.creator_avatar_url) {
    content.AddMember("avatar_url", str(*p.options.creator_avatar_url, a), a);
  }
  p.add("m.room.member", p.creator, std::move(content));
}

rapidjson::Value default_event_levels(const RoomVersion& version, Alloc& a) {
  rapidjson::Value events(rapidjson::kObjectType);
  events.AddMember("m.room.name", 50, a);
  events.AddMember("m.room.power_levels", 100, a);
  events.AddMember("m.room.history_visibility", 100, a);
  events.AddMember("m.room.canonical_alias", 50, a);
  events.AddMember("m.room.avatar", 50, a);
  // v12: creators are above 100, so the upgrade event must sit above state_default and 100.
  events.AddMember("m.room.tombstone", version.creators_privileged ? 150 : 100, a);
  events.AddMember("m.room.server_acl", 100, a);
  events.AddMember("m.room.encryption", 100, a);
  return events;
}

rapidjson::Value default_user_levels(const PlanContext& p, Alloc& a) {
  rapidjson::Value users(rapidjson::kObjectType);
  if (p.version.creators_privileged) return users;  // creators may not be listed
  users.AddMember(str(p.creator, a), rapidjson::Value(100), a);
  if (p.request.preset != RoomPreset::kTrustedPrivateChat) return users;
  for (const std::string& u : p.request.invite) {
    if (!detail::member(users, u)) users.AddMember(str(u, a), rapidjson::Value(100), a);
  }
  return users;
}

void add_power_levels(PlanContext& p) {
  rapidjson::Document content(rapidjson::kObjectType);
  Alloc& a = content.GetAllocator();
  content.AddMember("users", default_user_levels(p, a), a);
  content.AddMember("users_default", 0, a);
  content.AddMember("events", default_event_levels(p.version, a), a);
  content.AddMember("events_default", 0, a);
  content.AddMember("state_default", 50, a);
  content.AddMember("ban", 50, a);
  content.AddMember("kick", 50, a);
  content.AddMember("redact", 50, a);
  content.AddMember("invite", p.request.preset == RoomPreset::kPublicChat ? 50 : 0, a);
  const rapidjson::Value& override_content = p.request.power_level_content_override;
  if (override_content.IsObject()) {
    for (auto& m : override_content.GetObject()) {  // a shallow merge, as the spec describes
      detail::set_member(content, detail::view(m.name), rapidjson::Value(m.value, a), a);
    }
  }
  p.add("m.room.power_levels", "", std::move(content));
}

void add_preset_state(PlanContext& p) {
  bool is_public = p.request.preset == RoomPreset::kPublicChat;
  if (!p.in_initial_state("m.room.join_rules")) {
    p.add("m.room.join_rules", "", object_with("join_rule", is_public ? "public" : "invite"));
  }
  if (!p.in_initial_state("m.room.history_visibility")) {
    p.add("m.room.history_visibility", "", object_with("history_visibility", "shared"));
  }
  if (!p.in_initial_state("m.room.guest_access")) {
    p.add("m.room.guest_access", "",
          object_with("guest_access", is_public ? "forbidden" : "can_join"));
  }
}

void add_initial_state(PlanContext& p) {
  for (const InitialStateEvent& e : p.request.initial_state) {
    if ((e.type == "m.room.name" && p.request.name) ||
        (e.type == "m.room.topic" && p.request.topic)) {
      continue;  // name and topic in the request take precedence
    }
    p.add(e.type, e.state_key, copy_of(e.content));
  }
  if (p.options.encrypt_by_default && !p.in_initial_state("m.room.encryption")) {
    p.add("m.room.encryption", "", object_with("algorithm", "m.megolm.v1.aes-sha2"));
  }
}

rapidjson::Document topic_content(std::string_view topic) {
  rapidjson::Document d = object_with("topic", topic);
  Alloc& a = d.GetAllocator();
  rapidjson::Value text(rapidjson::kObjectType);
  text.AddMember("body", str(topic, a), a);
  text.AddMember("mimetype", "text/plain", a);
  rapidjson::Value texts(rapidjson::kArrayType);
  texts.PushBack(text, a);
  rapidjson::Value block(rapidjson::kObjectType);
  block.AddMember("m.text", texts, a);
  d.AddMember("m.topic", block, a);
  return d;
}

void add_invites(PlanContext& p) {
  for (const std::string& user : p.request.invite) {
    if (user == p.creator) continue;
    if (p.options.invite_remote_users_later && server_name_of(user) != p.server_name) continue;
    rapidjson::Document content = object_with("membership", "invite");
    if (p.request.is_direct) content.AddMember("is_direct", true, content.GetAllocator());
    p.add("m.room.member", user, std::move(content));
  }
}

}  // namespace

std::vector<EventDraft> plan_create_room(const CreateRoomRequest& request, std::string_view creator,
                                         const RoomVersion& version, std::string_view server_name,
                                         const CreateRoomOptions& options) {
  PlanContext p{request, creator, version, server_name, options, {}};
  add_create(p);
  add_creator_join(p);
  add_power_levels(p);
  if (request.room_alias_name) {
    std::string alias = "#" + *request.room_alias_name + ":" + std::string(server_name);
    p.add("m.room.canonical_alias", "", object_with("alias", alias));
  }
  add_preset_state(p);
  add_initial_state(p);
  if (request.name) p.add("m.room.name", "", object_with("name", *request.name));
  if (request.topic) p.add("m.room.topic", "", topic_content(*request.topic));
  add_invites(p);
  return std::move(p.drafts);
}

}  // namespace haven::rooms
