#include "homeserver/policy/conversation_template.h"

#include <algorithm>

#include "homeserver/base/json.h"

namespace haven::policy {

namespace {
constexpr int kOwnerLevel = 100;
}

json::Document template_power_levels(const conf::Care& config, std::string_view creator) {
  auto content = json::object();
  auto& a = content.GetAllocator();
  json::Value users(rapidjson::kObjectType);
  json::set(users, creator, kOwnerLevel, a);
  json::Value events(rapidjson::kObjectType);
  for (const std::string& type : config.owner_only_events) json::set(events, type, kOwnerLevel, a);
  json::Value notifications(rapidjson::kObjectType);
  json::set(notifications, "room", kOwnerLevel, a);
  json::set(content, "users", std::move(users), a);
  json::set(content, "users_default", 0, a);
  json::set(content, "events", std::move(events), a);
  json::set(content, "events_default", config.events_default, a);
  json::set(content, "state_default", config.state_default, a);
  json::set(content, "invite", config.invite, a);
  json::set(content, "kick", config.kick, a);
  json::set(content, "ban", config.ban, a);
  json::set(content, "redact", config.redact, a);
  json::set(content, "notifications", std::move(notifications), a);
  return content;
}

Status apply_conversation_template(const conf::Care& config, rooms::CreateRoomRequest& request,
                                   std::string_view creator) {
  if (request.room_version && *request.room_version == "12") {
    return Error::with(400, "M_UNSUPPORTED_ROOM_VERSION",
                       "Conversations use room version " + config.room_version +
                           ": in version 12 the operator could not name a new owner");
  }
  if (!request.room_version) request.room_version = config.room_version;
  if (request.preset == rooms::RoomPreset::kTrustedPrivateChat) {
    request.preset = rooms::RoomPreset::kPrivateChat;
  }
  std::erase_if(request.initial_state,
                [](const rooms::InitialStateEvent& e) { return e.type == "m.room.power_levels"; });
  request.power_level_content_override = template_power_levels(config, creator);
  return {};
}

}  // namespace haven::policy
