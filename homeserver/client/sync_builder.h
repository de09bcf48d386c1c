// Builds one /sync response for a user from a since-token: joined, invited and left rooms with
// their timelines, state, ephemeral events and room account data; global account data and
// presence. The visibility rules come from rooms::room_access / may_see_event, so /sync shows
// exactly what /messages would. Reads through one ReadTxn; loop thread (Typing is in memory).
#pragma once

#include <optional>

#include "homeserver/client/common.h"
#include "homeserver/sync/filter.h"
#include "homeserver/sync/sync_token.h"

namespace haven::client {

struct SyncRequest {
  std::optional<SyncToken> since;
  sync::Filter filter;
  bool full_state = false;
};

struct SyncResult {
  json::Document body;
  SyncToken next;
  bool empty = true;  // nothing new: a long-poll keeps waiting
};

SyncResult build_sync(ServerContext& ctx, storage::ReadTxn& txn, const Requester& who,
                      const SyncRequest& request);

}  // namespace haven::client
