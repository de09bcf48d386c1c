// The organisation's conversation template (R7): the room version and power levels every room
// a local user creates gets while the care rules apply. Pure; any thread.
#pragma once

#include <string_view>

#include "conf/config.h"
#include "homeserver/base/json.h"
#include "homeserver/base/result.h"
#include "homeserver/rooms/create_room.h"

namespace haven::policy {

// The template's m.room.power_levels content: `creator` (the owner) has 100.
json::Document template_power_levels(const conf::Care& config, std::string_view creator);

// Rewrites a createRoom request to the template: power levels (the request's own overrides
// and initial power levels are dropped: only the owner changes them, afterwards), no
// trusted_private_chat (which would make every invitee an admin), the template's room
// version. 400 M_UNSUPPORTED_ROOM_VERSION when the request asks for version 12, whose
// creator's power could never be handed to a new owner.
Status apply_conversation_template(const conf::Care& config, rooms::CreateRoomRequest& request,
                                   std::string_view creator);

}  // namespace haven::policy
