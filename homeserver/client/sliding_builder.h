// Builds one simplified sliding sync (MSC4186) response: the lists' counts, the rooms the lists'
// windows and the subscriptions match that are new to the connection or changed since it last
// got them, and the extensions (to_device, e2ee, account_data, receipts, typing). Visibility,
// timelines, invite state and anonymity come from the same code as /sync v2 (sync_rooms.h,
// rooms/room_access.h). Reads through one ReadTxn; loop thread (typing lives there).
#pragma once

#include <memory>

#include "homeserver/client/common.h"
#include "homeserver/sync/sliding_connections.h"
#include "homeserver/sync/sliding_request.h"

namespace haven::client {

struct SlidingResult {
  json::Document body;  // everything but `pos`, which the caller adds once the state is stored
  std::shared_ptr<sync::ConnectionState> next;  // the connection state once the client has it
  bool empty = true;                            // nothing new: a long-poll keeps waiting
};

// `base`: the connection state the request's pos names; nullptr for a fresh connection.
SlidingResult build_sliding_sync(ServerContext& ctx, storage::ReadTxn& txn, const Requester& who,
                                 const sync::SlidingRequest& request,
                                 const sync::ConnectionState* base);

}  // namespace haven::client
