// The client-server API form of room events (ClientEvent): the PDU stripped to what clients
// see. Pure functions; any thread.
#pragma once

#include <rapidjson/document.h>

#include "homeserver/rooms/event.h"

namespace haven::rooms {

// content, event_id, origin_server_ts, room_id (when include_room_id), sender, state_key (for
// state events) and type. For m.room.redaction events `redacts` appears both at the top level
// and in content, whatever the room version (v11 "Moving the redacts property").
// `unsigned` is the caller's to add.
rapidjson::Value to_client_event(const Event& event, rapidjson::Document::AllocatorType& alloc,
                                 bool include_room_id);

}  // namespace haven::rooms
