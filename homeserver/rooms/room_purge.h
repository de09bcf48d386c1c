// Removing a room from storage (the admin API's room deletion) and the list of blocked rooms.
// Every function runs inside a Store job (writes: writer thread) or on a ReadTxn (any thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "homeserver/base/result.h"
#include "storage/store.h"

namespace haven::rooms {

struct PurgeStep {
  bool done = false;   // nothing of the room is left but what the purge keeps (see below)
  size_t removed = 0;  // records deleted by this step
};

// Deletes at most about `budget` records of `room_id` (an event with its indexes counts as
// one): call it in successive jobs until `done`, so no single job holds the writer for long.
// The room record goes first, so nothing can be sent to the room while it is purged, and its
// at-rest key with it (storage/sealed.h): what is left of its content is unreadable from then
// on, wherever LMDB keeps old copies. Then its
// events with their state groups, relations, redaction marks and transaction ids; current
// state; receipts; aliases; members, their account data for the room; the care owner record.
// It keeps:
// - each local user's final leave (or ban) membership record (no event), so /sync can tell
//   their clients once that they left, and /forget can drop it;
// - the newest row of the events and receipts streams if it belongs to the room, since the
//   streams' positions are read from their last row and must never move back.
// Join or invite records of local users (members the caller could not remove) are deleted.
Result<PurgeStep> purge_room_step(storage::WriteTxn& txn, std::string_view room_id,
                                  std::string_view server_name, size_t budget);

struct RoomBlock {
  std::string user_id;  // the admin who blocked it
  int64_t ts = 0;
};

// A blocked room refuses local joins and invites (M_FORBIDDEN); it may be unknown here.
std::optional<RoomBlock> room_block(storage::ReadTxn& txn, std::string_view room_id);
storage::Status block_room(storage::WriteTxn& txn, std::string_view room_id,
                           const RoomBlock& block);
storage::Status unblock_room(storage::WriteTxn& txn, std::string_view room_id);

}  // namespace haven::rooms
