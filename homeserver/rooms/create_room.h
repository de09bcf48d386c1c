// The createRoom template: parsing the request body and planning the ordered events the spec
// lists (create, creator join, power levels, alias, preset, initial_state, name, topic,
// encryption, invites). Pure functions; any thread.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "homeserver/base/result.h"
#include "homeserver/rooms/event_builder.h"
#include "homeserver/rooms/room_version.h"

namespace haven::rooms {

enum class RoomPreset { kPrivateChat, kTrustedPrivateChat, kPublicChat };

struct InitialStateEvent {
  std::string type;
  std::string state_key;
  rapidjson::Document content{rapidjson::kObjectType};
};

struct CreateRoomRequest {
  bool visibility_public = false;              // "visibility": "public" (published room directory)
  std::optional<std::string> room_alias_name;  // the alias localpart
  std::optional<std::string> name;
  std::optional<std::string> topic;
  std::vector<std::string> invite;          // user ids; invite_3pid is not supported and ignored
  std::optional<std::string> room_version;  // nullopt: the server's default
  rapidjson::Document creation_content{rapidjson::kObjectType};
  std::vector<InitialStateEvent> initial_state;
  RoomPreset preset = RoomPreset::kPrivateChat;  // from "preset", else from visibility
  bool is_direct = false;
  rapidjson::Document power_level_content_override{rapidjson::kObjectType};
};

// M_BAD_JSON for wrong types, M_INVALID_PARAM for bad values (unknown preset or visibility,
// invalid invitee ids, an alias localpart with ':' or whitespace), and 400
// M_UNSUPPORTED_ROOM_VERSION for a room version this server does not support.
Result<CreateRoomRequest> parse_create_room_request(const rapidjson::Value& body);

struct CreateRoomOptions {
  std::string room_id;  // the new room's id; unused when the version derives it (v12)
  bool encrypt_by_default = false;
  int64_t now_ms = 0;                              // origin_server_ts of every event
  std::optional<std::string> creator_displayname;  // profile for the creator's join
  std::optional<std::string> creator_avatar_url;
  // Leaves invitees of other servers out of the invite events: the caller invites them through
  // their servers once the room exists (they still count for power levels and creators).
  bool invite_remote_users_later = false;
};

// The events in the order they must be sent, all by `creator`. Their room_id is
// options.room_id, or empty when `version` derives the room id from the create event: the
// caller builds drafts[0], takes room_id_from_create_event() and fills in the rest.
// Building may still fail the auth rules (e.g. an override that leaves the creator too weak):
// the spec's answer to that is 400 M_INVALID_ROOM_STATE.
std::vector<EventDraft> plan_create_room(const CreateRoomRequest& request, std::string_view creator,
                                         const RoomVersion& version, std::string_view server_name,
                                         const CreateRoomOptions& options);

}  // namespace haven::rooms
