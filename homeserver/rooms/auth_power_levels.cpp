// The m.room.power_levels rule of the authorisation rules (rooms v10-v12).
#include <set>

#include "homeserver/rooms/auth_internal.h"
#include "homeserver/rooms/json_util.h"

namespace haven::rooms::detail {

namespace {

constexpr std::string_view kLevelNames[] = {
    "users_default", "events_default", "state_default", "ban", "redact", "kick", "invite"};

std::optional<int64_t> lookup(const PowerLevels::LevelMap& map, std::string_view key) {
  auto it = map.find(key);
  if (it == map.end()) return std::nullopt;
  return it->second;
}

std::set<std::string_view> union_keys(const PowerLevels::LevelMap& a,
                                      const PowerLevels::LevelMap& b) {
  std::set<std::string_view> keys;
  for (auto& [k, v] : a) keys.insert(k);
  for (auto& [k, v] : b) keys.insert(k);
  return keys;
}

Status check_top_level_changes(const PowerLevels& old_pl, const PowerLevels& new_pl,
                               int64_t sender_level) {
  for (std::string_view name : kLevelNames) {
    auto before = old_pl.explicit_value(name);
    auto after = new_pl.explicit_value(name);
    if (before == after) continue;
    if ((before && *before > sender_level) || (after && *after > sender_level)) {
      return reject("Cannot change '" + std::string(name) + "' beyond one's own power level");
    }
  }
  return {};
}

// events and notifications: old values above the sender can't change; new ones can't exceed it.
Status check_map_changes(const PowerLevels::LevelMap& before, const PowerLevels::LevelMap& after,
                         int64_t sender_level, std::string_view what) {
  for (std::string_view key : union_keys(before, after)) {
    auto old_v = lookup(before, key);
    auto new_v = lookup(after, key);
    if (old_v == new_v) continue;
    if ((old_v && *old_v > sender_level) || (new_v && *new_v > sender_level)) {
      return reject("Cannot change " + std::string(what) + " '" + std::string(key) +
                    "' beyond one's own power level");
    }
  }
  return {};
}

Status check_user_changes(const PowerLevels& old_pl, const PowerLevels& new_pl,
                          const std::string& sender, int64_t sender_level) {
  for (std::string_view user : union_keys(old_pl.users(), new_pl.users())) {
    auto old_v = lookup(old_pl.users(), user);
    auto new_v = lookup(new_pl.users(), user);
    if (old_v == new_v) continue;
    if (old_v && user != sender && *old_v >= sender_level) {
      return reject("Cannot change the level of a user with a level at least one's own");
    }
    if (new_v && *new_v > sender_level) {
      return reject("Cannot give a user a level above one's own");
    }
  }
  return {};
}

Status check_no_creators_listed(const AuthContext& ctx) {
  if (!ctx.version.creators_privileged) return {};
  const rapidjson::Value* users = member(ctx.event.content(), "users");
  if (!users) return {};
  for (const std::string& creator : room_creators(ctx.create, ctx.version)) {
    if (member(*users, creator)) return reject("Room creators cannot be listed in users");
  }
  return {};
}

}  // namespace

Status check_power_levels_event(const AuthContext& ctx) {
  HAVEN_TRY(validate_power_levels_content(ctx.event.content(), ctx.version));
  HAVEN_TRY(check_no_creators_listed(ctx));
  if (!ctx.levels.has_event()) return {};
  PowerLevels proposed = PowerLevels::from_events(&ctx.event, &ctx.create, ctx.version);
  int64_t sender_level = ctx.sender_level();
  HAVEN_TRY(check_top_level_changes(ctx.levels, proposed, sender_level));
  HAVEN_TRY(check_map_changes(ctx.levels.events(), proposed.events(), sender_level, "events"));
  HAVEN_TRY(check_map_changes(ctx.levels.notifications(), proposed.notifications(), sender_level,
                              "notifications"));
  return check_user_changes(ctx.levels, proposed, ctx.event.sender(), sender_level);
}

}  // namespace haven::rooms::detail
