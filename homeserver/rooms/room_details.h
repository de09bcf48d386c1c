// What the admin API shows of a room: its name, alias, members, settings and size, read from
// the current state. Reads through a ReadTxn; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/store.h"

namespace haven::rooms {

struct RoomDetails {
  std::string room_id;
  std::optional<std::string> name;
  std::optional<std::string> topic;
  std::optional<std::string> avatar;
  std::optional<std::string> canonical_alias;
  int64_t joined_members = 0;
  int64_t joined_local_members = 0;
  std::string version;
  std::string creator;
  std::optional<std::string> encryption;  // the algorithm, when encryption is on
  bool federatable = true;                // m.federate of the create event
  bool is_public = false;  // published in the room directory (room_directory.h)
  std::string join_rules;
  std::optional<std::string> guest_access;
  std::string history_visibility;
  int64_t state_events = 0;
  std::optional<std::string> room_type;
  bool tombstoned = false;
  std::optional<std::string> replacement_room;
};

// nullopt for a room this server does not know. `server_name` decides who is local.
std::optional<RoomDetails> room_details(storage::ReadTxn& txn, std::string_view room_id,
                                        std::string_view server_name);

// Every room this server has, by room id.
std::vector<std::string> all_room_ids(storage::ReadTxn& txn);

// User ids joined to the room, sorted.
std::vector<std::string> joined_members(storage::ReadTxn& txn, std::string_view room_id);

}  // namespace haven::rooms
