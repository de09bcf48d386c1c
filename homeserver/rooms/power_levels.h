// Power levels of a room: the typed m.room.power_levels content with the spec's defaults, and
// v12's infinitely powerful creators. Values; any thread.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "homeserver/base/result.h"
#include "homeserver/rooms/event.h"
#include "homeserver/rooms/room_version.h"
#include "homeserver/rooms/state.h"

namespace haven::rooms {

// The level of a v12 room creator: above every level a power_levels event can express
// (those are limited to 2^53 - 1), so plain integer comparisons order it correctly.
constexpr int64_t kCreatorPowerLevel = std::numeric_limits<int64_t>::max();

class PowerLevels {
 public:
  using LevelMap = std::map<std::string, int64_t, std::less<>>;

  // `power_levels`: the room's m.room.power_levels event (nullptr: none, use the defaults).
  // `create`: the room's m.room.create event, which names the creators (nullptr: unknown).
  // Non-integer values are ignored (treated as absent).
  static PowerLevels from_events(const Event* power_levels, const Event* create,
                                 const RoomVersion& version);

  int64_t user_level(std::string_view user_id) const;
  bool is_creator(std::string_view user_id) const;
  // The level needed to send an event of `type` (events[type], else state/events default).
  int64_t event_level(std::string_view type, bool is_state) const;
  int64_t notification_level(std::string_view key) const;  // "room" defaults to 50

  int64_t users_default() const { return value("users_default"); }
  int64_t events_default() const { return value("events_default"); }
  int64_t state_default() const { return value("state_default"); }
  int64_t invite() const { return value("invite"); }
  int64_t kick() const { return value("kick"); }
  int64_t ban() const { return value("ban"); }
  int64_t redact() const { return value("redact"); }

  // The explicit value of one of the seven top-level levels, nullopt when not given.
  std::optional<int64_t> explicit_value(std::string_view name) const;
  bool has_event() const { return has_event_; }
  const LevelMap& users() const { return users_; }
  const LevelMap& events() const { return events_; }
  const LevelMap& notifications() const { return notifications_; }
  const std::vector<std::string>& creators() const { return creators_; }

 private:
  int64_t value(std::string_view name) const;

  const RoomVersion* version_ = nullptr;
  bool has_event_ = false;
  LevelMap top_;  // users_default, events_default, state_default, invite, kick, ban, redact
  LevelMap users_;
  LevelMap events_;
  LevelMap notifications_;
  std::vector<std::string> creators_;
};

// The power levels in force in `state` (its power_levels and create events).
PowerLevels power_levels(const StateView& state, const RoomVersion& version);

// The shape checks on the content of a new m.room.power_levels event (rooms v10+): the seven
// levels integers, events/notifications objects of integers, users an object of valid user id
// -> integer; every integer within the canonical JSON range. M_FORBIDDEN naming the failure.
Status validate_power_levels_content(const rapidjson::Value& content, const RoomVersion& version);

}  // namespace haven::rooms
