// Shared pieces of the auth rule implementation (auth_rules.cpp, auth_membership.cpp,
// auth_power_levels.cpp). Internal to homeserver/rooms; pure functions, any thread.
#pragma once

#include <string>

#include "homeserver/base/result.h"
#include "homeserver/rooms/event.h"
#include "homeserver/rooms/power_levels.h"
#include "homeserver/rooms/room_version.h"
#include "homeserver/rooms/state.h"

namespace haven::rooms::detail {

// What every rule after the create rule looks at.
struct AuthContext {
  const Event& event;
  const StateView& state;
  const RoomVersion& version;
  const Event& create;
  PowerLevels levels;

  int64_t sender_level() const { return levels.user_level(event.sender()); }
  std::string sender_membership() const { return membership_of(state, event.sender()); }
};

inline Error reject(const std::string& why) { return Error::forbidden(why); }

// Rule "if type is m.room.member" in full.
Status check_membership(const AuthContext& ctx);
// Rule "if type is m.room.power_levels" (content shape, creators, changes).
Status check_power_levels_event(const AuthContext& ctx);

}  // namespace haven::rooms::detail
