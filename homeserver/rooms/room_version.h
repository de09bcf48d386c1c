// Room versions: the per-version switches the room core's rules consult (event ids, redaction,
// auth rule variants, creator semantics). Immutable static tables; any thread.
#pragma once

#include <string_view>
#include <vector>

namespace haven::rooms {

enum class RedactionRules {
  kV9,   // rooms v9 and v10: keeps origin/membership/prev_state, create keeps only creator
  kV11,  // rooms v11+: create keeps all content, power_levels keeps invite, redaction keeps redacts
};

enum class StateResAlgorithm {
  kV2,       // rooms v2..v11
  kV2Empty,  // rooms v12: iterative auth checks start from an empty state, conflicted subgraph
};

struct RoomVersion {
  std::string_view id;
  bool stable = true;
  RedactionRules redaction = RedactionRules::kV11;
  StateResAlgorithm state_res = StateResAlgorithm::kV2;
  // Event ids are "$" + the url-safe unpadded base64 reference hash (v4+); always true here.
  bool event_id_is_reference_hash = true;
  // v10: the create event must carry content.creator, which names the creator.
  // v11+: the creator is the create event's sender.
  bool create_has_creator_field = false;
  // v11+: m.room.redaction keeps `redacts` under content instead of at the top level.
  bool redacts_in_content = true;
  // v12: the create event has no room_id; the room id is "!" + its event id without "$",
  // and the create event is never selected as an auth event.
  bool room_id_from_create_event = false;
  // v12: the create sender and content.additional_creators have infinite power and may not
  // appear in power_levels.users.
  bool creators_privileged = false;
  bool knock = true;                 // v7+
  bool restricted_join = true;       // v8+ (join_authorised_via_users_server)
  bool knock_restricted = true;      // v10+
  bool integer_power_levels = true;  // v10+: power level values must be JSON integers
};

// The versions this server can create and participate in: "10", "11", "12"; nullptr otherwise.
const RoomVersion* find_room_version(std::string_view id);
// Every supported version, oldest first (for the capabilities endpoint).
const std::vector<const RoomVersion*>& supported_room_versions();

constexpr std::string_view kDefaultRoomVersion = "12";

}  // namespace haven::rooms
