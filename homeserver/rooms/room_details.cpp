#include "homeserver/rooms/room_details.h"

#include "homeserver/base/json.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/ids.h"
#include "homeserver/rooms/room_directory.h"
#include "homeserver/rooms/state.h"
#include "storage/keys.h"

namespace haven::rooms {

namespace {

std::optional<std::string> content_string(const EventPtr& ev, const char* key) {
  if (!ev || !ev->content().IsObject()) return std::nullopt;
  auto it = ev->content().FindMember(key);
  if (it == ev->content().MemberEnd() || !it->value.IsString()) return std::nullopt;
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

}  // namespace

std::optional<RoomDetails> room_details(storage::ReadTxn& txn, std::string_view room_id,
                                        std::string_view server_name) {
  auto room = get_room(txn, room_id);
  if (!room) return std::nullopt;
  RoomDetails d;
  d.room_id = std::string(room_id);
  d.version = room->version;
  d.is_public = is_published(txn, room_id);
  std::string prefix = storage::KeyBuilder().str(room_id).take();
  txn.scan(storage::Table::kCurrentState, prefix, {}, storage::Direction::kForward,
           [&](std::string_view, std::string_view) {
             ++d.state_events;
             return true;
           });
  CurrentStateView state(txn, d.room_id);
  if (EventPtr create = create_event(state); create) {
    const RoomVersion* version = find_room_version(room->version);
    auto creators = version ? room_creators(*create, *version) : std::vector<std::string>{};
    d.creator = creators.empty() ? create->sender() : creators.front();
    d.room_type = content_string(create, "type");
    auto federate = create->content().IsObject() ? create->content().FindMember("m.federate")
                                                 : create->content().MemberEnd();
    if (create->content().IsObject() && federate != create->content().MemberEnd() &&
        federate->value.IsBool()) {
      d.federatable = federate->value.GetBool();
    }
  }
  d.name = content_string(state.get("m.room.name", ""), "name");
  d.topic = content_string(state.get("m.room.topic", ""), "topic");
  d.avatar = content_string(state.get("m.room.avatar", ""), "url");
  d.canonical_alias = content_string(state.get("m.room.canonical_alias", ""), "alias");
  d.encryption = content_string(state.get("m.room.encryption", ""), "algorithm");
  d.join_rules = join_rule(state);
  d.guest_access = content_string(state.get("m.room.guest_access", ""), "guest_access");
  d.history_visibility = history_visibility(state);
  if (EventPtr tombstone = state.get("m.room.tombstone", ""); tombstone) {
    d.tombstoned = true;
    d.replacement_room = content_string(tombstone, "replacement_room");
  }
  for (const std::string& user : joined_members(txn, room_id)) {
    ++d.joined_members;
    if (server_name_of(user) == server_name) ++d.joined_local_members;
  }
  return d;
}

std::vector<std::string> all_room_ids(storage::ReadTxn& txn) {
  std::vector<std::string> out;
  txn.scan(storage::Table::kRooms, {}, {}, storage::Direction::kForward,
           [&](std::string_view key, std::string_view) {
             out.emplace_back(key);
             return true;
           });
  return out;
}

std::vector<std::string> joined_members(storage::ReadTxn& txn, std::string_view room_id) {
  std::vector<std::string> out;
  for (auto& [user, membership] : members_of_room(txn, room_id)) {
    if (membership == "join") out.push_back(user);
  }
  return out;
}

}  // namespace haven::rooms
