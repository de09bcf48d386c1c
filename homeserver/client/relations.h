// Event relationships for clients: bundled aggregations in `unsigned.m.relations` (m.replace,
// m.thread, m.reference) and the /relations and /threads endpoints. Loop thread.
#pragma once

#include "homeserver/client/common.h"
#include "homeserver/rooms/event_store.h"

namespace haven::client {

// Adds "m.relations" to `unsig` when `ev` has edits, a thread or references.
void add_bundled_relations(storage::ReadTxn& txn, const rooms::StoredEvent& ev,
                           const Requester& who, json::Value& unsig, json::Alloc& a);

void register_relation_routes(http::Router& r, ServerContext& ctx);

}  // namespace haven::client
