#include "homeserver/policy/temporary_rooms.h"

#include "homeserver/rooms/event_store.h"

namespace haven::policy {

bool is_temporary_create_content(const json::Value& content) {
  return content.IsObject() && json::get_bool(content, std::string(kTemporaryMarker).c_str());
}

bool is_temporary_room(storage::ReadTxn& txn, std::string_view room_id) {
  auto create = rooms::current_state_event(txn, room_id, "m.room.create", "");
  return create && is_temporary_create_content(create->content());
}

namespace {

Error temporary_not_publishable() {
  return Error::forbidden(
      "A temporary conversation cannot be published in the room directory: only the owner's "
      "contacts and invited guests take part in it");
}

}  // namespace

Status check_publishable(storage::ReadTxn& txn, std::string_view room_id) {
  if (is_temporary_room(txn, room_id)) return temporary_not_publishable();
  return {};
}

Status check_publishable(const rooms::CreateRoomRequest& request) {
  if (request.visibility_public && is_temporary_create_content(request.creation_content)) {
    return temporary_not_publishable();
  }
  return {};
}

void force_unfederated_if_temporary(rooms::CreateRoomRequest& request) {
  if (!is_temporary_create_content(request.creation_content)) return;
  auto& content = request.creation_content;
  content.RemoveMember("m.federate");
  json::set(content, "m.federate", false, content.GetAllocator());
}

}  // namespace haven::policy
