// Handing a conversation to a new owner (R7, R10): only the operator does this, through the
// admin API. Runs inside a Store job on the writer thread.
#pragma once

#include <string>
#include <vector>

#include "homeserver/base/result.h"
#include "homeserver/rooms/room_service.h"

namespace haven::policy {

// Makes `new_owner` (a joined local member) the owner: the current owner's power levels event
// gives them 100 and takes the old owner's away; with `remove_previous`, the new owner then
// removes the old one from the room. Returns the events sent. M_NOT_FOUND for an unknown room,
// M_INVALID_PARAM when new_owner is not a joined local member, M_UNSUPPORTED_ROOM_VERSION for
// version 12 rooms (whose creator's power cannot be handed over).
Result<std::vector<rooms::EventPtr>> transfer_ownership(storage::WriteTxn& txn,
                                                        const rooms::LocalServer& server,
                                                        const std::string& room_id,
                                                        const std::string& new_owner,
                                                        bool remove_previous);

}  // namespace haven::policy
