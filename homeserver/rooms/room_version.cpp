#include "homeserver/rooms/room_version.h"

namespace haven::rooms {

namespace {

constexpr RoomVersion make_v10() {
  RoomVersion v;
  v.id = "10";
  v.redaction = RedactionRules::kV9;
  v.create_has_creator_field = true;
  v.redacts_in_content = false;
  return v;
}

constexpr RoomVersion make_v11() {
  RoomVersion v;
  v.id = "11";
  return v;
}

constexpr RoomVersion make_v12() {
  RoomVersion v;
  v.id = "12";
  v.state_res = StateResAlgorithm::kV2Empty;
  v.room_id_from_create_event = true;
  v.creators_privileged = true;
  return v;
}

constexpr RoomVersion kV10 = make_v10();
constexpr RoomVersion kV11 = make_v11();
constexpr RoomVersion kV12 = make_v12();

}  // namespace

const RoomVersion* find_room_version(std::string_view id) {
  for (const RoomVersion* v : supported_room_versions()) {
    if (v->id == id) return v;
  }
  return nullptr;
}

const std::vector<const RoomVersion*>& supported_room_versions() {
  static const std::vector<const RoomVersion*> all = {&kV10, &kV11, &kV12};
  return all;
}

}  // namespace haven::rooms
