#include "homeserver/rooms/state.h"

#include <algorithm>

#include "homeserver/rooms/json_util.h"

namespace haven::rooms {

EventPtr StateMap::get(std::string_view type, std::string_view state_key) const {
  auto it = map_.find(std::pair{type, state_key});
  return it == map_.end() ? nullptr : it->second;
}

void StateMap::set(EventPtr event) {
  if (!event || !event->state_key()) return;
  StateKey key{event->type(), *event->state_key()};
  map_.insert_or_assign(std::move(key), std::move(event));
}

void StateMap::erase(std::string_view type, std::string_view state_key) {
  auto it = map_.find(std::pair{type, state_key});
  if (it != map_.end()) map_.erase(it);
}

bool StateMap::contains(std::string_view type, std::string_view state_key) const {
  return map_.find(std::pair{type, state_key}) != map_.end();
}

EventPtr create_event(const StateView& state) { return state.get("m.room.create", ""); }

std::string membership_of(const StateView& state, std::string_view user_id) {
  EventPtr ev = state.get("m.room.member", user_id);
  return ev ? ev->membership() : std::string();
}

std::string join_rule(const StateView& state) {
  EventPtr ev = state.get("m.room.join_rules", "");
  if (!ev) return "invite";
  return std::string(detail::string_member(ev->content(), "join_rule").value_or("invite"));
}

std::string history_visibility(const StateView& state) {
  EventPtr ev = state.get("m.room.history_visibility", "");
  if (!ev) return "shared";
  auto v = detail::string_member(ev->content(), "history_visibility");
  if (v == "world_readable" || v == "shared" || v == "invited" || v == "joined") {
    return std::string(*v);
  }
  return "shared";
}

std::vector<std::string> room_creators(const Event& create, const RoomVersion& version) {
  std::vector<std::string> out;
  if (version.create_has_creator_field) {
    if (auto c = detail::string_member(create.content(), "creator")) out.emplace_back(*c);
    return out;
  }
  out.push_back(create.sender());
  if (!version.creators_privileged) return out;
  const rapidjson::Value* extra = detail::member(create.content(), "additional_creators");
  if (!extra || !extra->IsArray()) return out;
  for (auto& u : extra->GetArray()) {
    if (u.IsString() && std::find(out.begin(), out.end(), detail::view(u)) == out.end()) {
      out.emplace_back(detail::view(u));
    }
  }
  return out;
}

}  // namespace haven::rooms
