#include "homeserver/rooms/room_access.h"

#include <limits>

#include "homeserver/base/json.h"

namespace haven::rooms {

namespace {

std::string content_string(const EventPtr& ev, const char* key, const char* fallback) {
  if (!ev) return fallback;
  return json::get_string(ev->content(), key, fallback);
}

// History visibility and the user's membership in the state after `group`.
std::pair<std::string, std::string> visibility_and_membership(storage::ReadTxn& txn, uint64_t group,
                                                              const std::string& user_id) {
  auto ids = state_ids_at_group(txn, group);
  auto load = [&](const char* type, const std::string& key) -> EventPtr {
    auto it = ids.find({type, key});
    if (it == ids.end()) return nullptr;
    auto ev = get_event(txn, it->second);
    return ev ? ev->event : nullptr;
  };
  return {content_string(load("m.room.history_visibility", ""), "history_visibility", "shared"),
          content_string(load("m.room.member", user_id), "membership", "leave")};
}

}  // namespace

Result<RoomAccess> room_access(storage::ReadTxn& txn, const std::string& user_id,
                               const std::string& room_id) {
  auto room = get_room(txn, room_id);
  if (!room) return Error::forbidden("You aren't a member of this room");
  auto m = membership(txn, user_id, room_id);
  RoomAccess access;
  access.membership = m ? m->membership : "";
  access.member_since_pos = m ? m->pos : 0;
  if (access.membership == "join") {
    access.until_pos = std::numeric_limits<uint64_t>::max();
    access.state_group = room->state_group;
    return access;
  }
  if (m && (access.membership == "leave" || access.membership == "ban")) {
    auto leave = get_event(txn, m->event_id);
    if (leave) {
      access.until_pos = leave->pos;
      access.state_group = leave->state_group;
      return access;
    }
  }
  auto visibility = current_state_event(txn, room_id, "m.room.history_visibility", "");
  if (content_string(visibility, "history_visibility", "shared") == "world_readable") {
    access.until_pos = std::numeric_limits<uint64_t>::max();
    access.state_group = room->state_group;
    return access;
  }
  return Error::forbidden("You aren't a member of this room");
}

bool may_see_event(storage::ReadTxn& txn, const std::string& user_id, const StoredEvent& event,
                   const RoomAccess& access) {
  if (event.pos > access.until_pos) return false;
  if (access.membership == "join" && event.pos >= access.member_since_pos) return true;
  auto [visibility, membership] = visibility_and_membership(txn, event.state_group, user_id);
  if (visibility == "world_readable") return true;
  if (membership == "join") return true;
  if (visibility == "shared")
    return access.membership == "join" || access.membership == "leave" ||
           access.membership == "ban";
  if (visibility == "invited") return membership == "invite";
  return false;
}

std::set<std::string> users_sharing_rooms(storage::ReadTxn& txn, const std::string& user_id) {
  std::set<std::string> users{user_id};
  for (auto& [room_id, m] : rooms_of_user(txn, user_id)) {
    if (m.membership != "join") continue;
    for (auto& [member, membership] : members_of_room(txn, room_id)) {
      if (membership == "join") users.insert(member);
    }
  }
  return users;
}

}  // namespace haven::rooms
