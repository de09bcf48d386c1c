// The redaction algorithm of each room version: which top-level keys and which content keys
// of each event type survive redaction. Used for event ids, signatures and applying
// m.room.redaction. Pure functions; any thread.
#pragma once

#include <rapidjson/document.h>

#include "homeserver/rooms/room_version.h"

namespace haven::rooms {

// A new document holding the redacted form of `event` (a PDU object) under `version`'s rules.
// A non-object input yields an empty object.
rapidjson::Document redact(const rapidjson::Value& event, const RoomVersion& version);

}  // namespace haven::rooms
