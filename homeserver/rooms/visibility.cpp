#include "homeserver/rooms/visibility.h"

#include "homeserver/rooms/json_util.h"

namespace haven::rooms {

namespace {

std::string_view normalise(std::string_view visibility) {
  if (visibility == "world_readable" || visibility == "invited" || visibility == "joined") {
    return visibility;
  }
  return "shared";
}

}  // namespace

bool visibility_allows(std::string_view membership, std::string_view history_visibility,
                       bool joined_later) {
  std::string_view v = normalise(history_visibility);
  if (v == "world_readable") return true;
  if (membership == "join") return true;
  if (v == "shared" && joined_later) return true;
  return membership == "invite" && v == "invited";
}

bool user_may_see_event(const Event& event, std::string_view user_id, const VisibilityAtEvent& at) {
  std::string_view membership_after = at.membership;
  std::string membership_of_event;
  if (event.is_state() && event.type() == "m.room.member" && *event.state_key() == user_id) {
    membership_of_event = event.membership();
    membership_after = membership_of_event;
  }
  std::string_view visibility_after = at.history_visibility;
  if (event.is_state_event("m.room.history_visibility", "")) {
    visibility_after =
        detail::string_member(event.content(), "history_visibility").value_or("shared");
  }
  return visibility_allows(at.membership, at.history_visibility, at.joined_later) ||
         visibility_allows(membership_after, visibility_after, at.joined_later);
}

}  // namespace haven::rooms
