#include "homeserver/rooms/power_levels.h"

#include <algorithm>
#include <array>

#include "crypto/canonical_json.h"
#include "homeserver/rooms/ids.h"
#include "homeserver/rooms/json_util.h"

namespace haven::rooms {

namespace {

constexpr std::array<std::string_view, 7> kLevelNames = {
    "users_default", "events_default", "state_default", "invite", "kick", "ban", "redact"};

int64_t default_level(std::string_view name) {
  if (name == "state_default" || name == "kick" || name == "ban" || name == "redact") return 50;
  return 0;  // users_default, events_default, invite
}

bool is_level(const rapidjson::Value& v) {
  return v.IsInt64() && v.GetInt64() >= -crypto::kMaxSafeInteger &&
         v.GetInt64() <= crypto::kMaxSafeInteger;
}

PowerLevels::LevelMap read_level_map(const rapidjson::Value& content, std::string_view key) {
  PowerLevels::LevelMap out;
  const rapidjson::Value* obj = detail::member(content, key);
  if (!obj || !obj->IsObject()) return out;
  for (auto& m : obj->GetObject()) {
    if (is_level(m.value)) out.emplace(detail::view(m.name), m.value.GetInt64());
  }
  return out;
}

Status check_level_map(const rapidjson::Value& content, std::string_view key, bool user_keys) {
  const rapidjson::Value* obj = detail::member(content, key);
  if (!obj) return {};
  if (!obj->IsObject()) {
    return Error::forbidden("power_levels '" + std::string(key) + "' is not an object");
  }
  for (auto& m : obj->GetObject()) {
    if (!is_level(m.value)) {
      return Error::forbidden("power_levels '" + std::string(key) + "' holds a non-integer");
    }
    if (user_keys && !is_valid_user_id(detail::view(m.name))) {
      return Error::forbidden("power_levels 'users' holds an invalid user id");
    }
  }
  return {};
}

}  // namespace

PowerLevels PowerLevels::from_events(const Event* power_levels, const Event* create,
                                     const RoomVersion& version) {
  PowerLevels pl;
  pl.version_ = &version;
  if (create) pl.creators_ = room_creators(*create, version);
  if (!power_levels) return pl;
  pl.has_event_ = true;
  const rapidjson::Value& content = power_levels->content();
  for (std::string_view name : kLevelNames) {
    const rapidjson::Value* v = detail::member(content, name);
    if (v && is_level(*v)) pl.top_.emplace(name, v->GetInt64());
  }
  pl.users_ = read_level_map(content, "users");
  pl.events_ = read_level_map(content, "events");
  pl.notifications_ = read_level_map(content, "notifications");
  return pl;
}

bool PowerLevels::is_creator(std::string_view user_id) const {
  return std::find(creators_.begin(), creators_.end(), user_id) != creators_.end();
}

int64_t PowerLevels::user_level(std::string_view user_id) const {
  if (version_ && version_->creators_privileged && is_creator(user_id)) {
    return kCreatorPowerLevel;
  }
  if (!has_event_) return is_creator(user_id) ? 100 : 0;
  auto it = users_.find(user_id);
  return it != users_.end() ? it->second : users_default();
}

int64_t PowerLevels::event_level(std::string_view type, bool is_state) const {
  auto it = events_.find(type);
  if (it != events_.end()) return it->second;
  return is_state ? state_default() : events_default();
}

int64_t PowerLevels::notification_level(std::string_view key) const {
  auto it = notifications_.find(key);
  if (it != notifications_.end()) return it->second;
  return 50;  // the spec defines only "room" (default 50); unknown keys get the same
}

std::optional<int64_t> PowerLevels::explicit_value(std::string_view name) const {
  auto it = top_.find(name);
  if (it == top_.end()) return std::nullopt;
  return it->second;
}

int64_t PowerLevels::value(std::string_view name) const {
  return explicit_value(name).value_or(default_level(name));
}

PowerLevels power_levels(const StateView& state, const RoomVersion& version) {
  EventPtr pl = state.get("m.room.power_levels", "");
  EventPtr create = state.get("m.room.create", "");
  return PowerLevels::from_events(pl.get(), create.get(), version);
}

Status validate_power_levels_content(const rapidjson::Value& content, const RoomVersion& version) {
  if (!content.IsObject()) return Error::forbidden("power_levels content is not an object");
  // Rooms before v10 also accept levels as strings; the room core only runs v10+.
  if (!version.integer_power_levels) return {};
  for (std::string_view name : kLevelNames) {
    const rapidjson::Value* v = detail::member(content, name);
    if (v && !is_level(*v)) {
      return Error::forbidden("power_levels '" + std::string(name) + "' is not an integer");
    }
  }
  HAVEN_TRY(check_level_map(content, "events", false));
  HAVEN_TRY(check_level_map(content, "notifications", false));
  if (!detail::member(content, "users")) return {};
  return check_level_map(content, "users", true);
}

}  // namespace haven::rooms
