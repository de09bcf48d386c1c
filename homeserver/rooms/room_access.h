// What part of a room a user may read: all of it while joined (history visibility decides
// how far back), everything up to their leave after leaving (R9), the whole room when it is
// world_readable, nothing otherwise. The single source for /messages, /context, /event,
// /state, /members and /sync. Reads through a ReadTxn; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "homeserver/base/result.h"
#include "homeserver/rooms/event_store.h"

namespace haven::rooms {

struct RoomAccess {
  std::string membership;         // the user's membership now ("" if none)
  uint64_t until_pos = 0;         // last readable stream position; UINT64_MAX while joined
  uint64_t state_group = 0;       // the state the user sees (current, or at their leave)
  uint64_t member_since_pos = 0;  // position of the user's current membership event
};

// M_FORBIDDEN when the user may not read the room; M_NOT_FOUND... never: unknown rooms are
// also M_FORBIDDEN so room existence does not leak.
Result<RoomAccess> room_access(storage::ReadTxn& txn, const std::string& user_id,
                               const std::string& room_id);

// Whether `user_id` may see `event` (history visibility at the event and the user's
// membership then), given the access computed above.
bool may_see_event(storage::ReadTxn& txn, const std::string& user_id, const StoredEvent& event,
                   const RoomAccess& access);

// Every user joined to a room `user_id` is joined to, the user included: who may see their
// presence and profile, and whom the user directory shows them.
std::set<std::string> users_sharing_rooms(storage::ReadTxn& txn, const std::string& user_id);

}  // namespace haven::rooms
