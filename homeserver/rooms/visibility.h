// History visibility (client-server "Room History Visibility"): whether a user may see an
// event given their membership and the room's history_visibility at that event.
// Pure functions; any thread.
#pragma once

#include <string>
#include <string_view>

#include "homeserver/rooms/event.h"

namespace haven::rooms {

// What the caller knows about the user and the room at the event (from the state before it).
struct VisibilityAtEvent {
  std::string membership;          // the user's membership before the event; "" for none
  std::string history_visibility;  // before the event; "" or unknown values mean "shared"
  // The user joined the room at some point after the event (or is joined now): what
  // "shared" asks for.
  bool joined_later = false;
};

// The spec's rules: world_readable allows; a joined user sees; shared allows users who joined
// later; invited lets invited users see; otherwise deny. For the user's own m.room.member
// events and for m.room.history_visibility events, the state after the event also counts
// (derived from the event itself).
bool user_may_see_event(const Event& event, std::string_view user_id, const VisibilityAtEvent& at);

// The rule for one (membership, history_visibility) pair, without the before/after cases.
bool visibility_allows(std::string_view membership, std::string_view history_visibility,
                       bool joined_later);

}  // namespace haven::rooms
