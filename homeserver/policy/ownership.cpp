#include "homeserver/policy/ownership.h"

#include "homeserver/base/json.h"
#include "homeserver/base/loop.h"
#include "homeserver/policy/care_store.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/ids.h"

namespace haven::policy {

namespace {

constexpr int kOwnerLevel = 100;

rooms::EventDraft draft(const std::string& room_id, const std::string& sender, const char* type,
                        const std::string& state_key, json::Document content) {
  rooms::EventDraft d;
  d.room_id = room_id;
  d.sender = sender;
  d.type = type;
  d.state_key = state_key;
  d.content = std::move(content);
  d.origin_server_ts = now_ms();
  return d;
}

// The current power levels content with `new_owner` at 100 and `old_owner` back to the default.
json::Document handed_over_levels(storage::WriteTxn& txn, const std::string& room_id,
                                  const std::string& old_owner, const std::string& new_owner) {
  auto content = json::object();
  auto& a = content.GetAllocator();
  if (auto current = rooms::current_state_event(txn, room_id, "m.room.power_levels", "")) {
    content.CopyFrom(current->content(), a);
  }
  auto users = content.FindMember("users");
  if (users == content.MemberEnd() || !users->value.IsObject()) {
    json::set(content, "users", json::Value(rapidjson::kObjectType), a);
    users = content.FindMember("users");
  }
  users->value.RemoveMember(old_owner.c_str());
  json::set(users->value, new_owner, kOwnerLevel, a);
  return content;
}

}  // namespace

Result<std::vector<rooms::EventPtr>> transfer_ownership(storage::WriteTxn& txn,
                                                        const rooms::LocalServer& server,
                                                        const std::string& room_id,
                                                        const std::string& new_owner,
                                                        bool remove_previous) {
  auto room = rooms::get_room(txn, room_id);
  if (!room) return Error::not_found("Unknown room");
  const rooms::RoomVersion* version = rooms::find_room_version(room->version);
  if (!version || version->creators_privileged) {
    return Error::with(400, "M_UNSUPPORTED_ROOM_VERSION",
                       "In this room version the creator's power cannot be handed over");
  }
  if (rooms::server_name_of(new_owner) != server.server_name) {
    return Error::invalid_param("The new owner must be a user of this server");
  }
  auto m = rooms::membership(txn, new_owner, room_id);
  if (!m || m->membership != "join") {
    return Error::invalid_param("The new owner must be a joined member of the conversation");
  }
  std::string old_owner = room_owner(txn, room_id).value_or("");
  if (old_owner.empty()) {
    auto create = rooms::current_state_event(txn, room_id, "m.room.create", "");
    if (create) old_owner = create->sender();
  }
  if (old_owner == new_owner) return std::vector<rooms::EventPtr>{};
  if (rooms::server_name_of(old_owner) != server.server_name) {
    return Error::forbidden("The current owner is a user of another server");
  }
  std::vector<rooms::EventPtr> sent;
  auto levels = rooms::send_event(txn, server,
                                  draft(room_id, old_owner, "m.room.power_levels", "",
                                        handed_over_levels(txn, room_id, old_owner, new_owner)));
  if (!levels.ok()) return std::move(levels).error();
  sent.push_back(levels->event);
  if (!set_room_owner(txn, room_id, new_owner).ok()) {
    return Error::unknown("Could not record the new owner");
  }
  auto old_membership = rooms::membership(txn, old_owner, room_id);
  if (remove_previous && old_membership && old_membership->membership == "join") {
    auto content = json::object();
    json::set(content, "membership", "leave", content.GetAllocator());
    json::set(content, "reason", "Removed by the operator", content.GetAllocator());
    auto kick = rooms::send_event(
        txn, server, draft(room_id, new_owner, "m.room.member", old_owner, std::move(content)));
    if (!kick.ok()) return std::move(kick).error();
    sent.push_back(kick->event);
  }
  return sent;
}

}  // namespace haven::policy
