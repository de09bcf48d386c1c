#include "homeserver/rooms/client_format.h"

#include "homeserver/rooms/json_util.h"

namespace haven::rooms {

rapidjson::Value to_client_event(const Event& event, rapidjson::Document::AllocatorType& alloc,
                                 bool include_room_id) {
  using detail::str;
  rapidjson::Value out(rapidjson::kObjectType);
  rapidjson::Value content(event.content(), alloc);
  if (event.redacts() && !detail::member(content, "redacts")) {
    content.AddMember("redacts", str(*event.redacts(), alloc), alloc);
  }
  out.AddMember("content", content, alloc);
  out.AddMember("event_id", str(event.event_id(), alloc), alloc);
  out.AddMember("origin_server_ts", event.origin_server_ts(), alloc);
  if (include_room_id) out.AddMember("room_id", str(event.room_id(), alloc), alloc);
  out.AddMember("sender", str(event.sender(), alloc), alloc);
  if (event.state_key()) out.AddMember("state_key", str(*event.state_key(), alloc), alloc);
  out.AddMember("type", str(event.type(), alloc), alloc);
  if (event.redacts()) out.AddMember("redacts", str(*event.redacts(), alloc), alloc);
  return out;
}

}  // namespace haven::rooms
