// MSC3202 device lists for services that opt in (org.matrix.msc3202: true): which users'
// devices changed, or no longer share a room with any of the service's users, computed as
// /sync computes device_lists for each of the service's users and merged. Queued as outbox
// items in the same commit that moves the service's device-list cursors, so nothing is lost
// or doubled; feed_device_lists runs inside a Store job (writer thread), merge_device_lists
// on a sender's thread.
#pragma once

#include <string>
#include <vector>

#include "appservices/queue.h"
#include "appservices/registry.h"
#include "homeserver/base/result.h"
#include "storage/store.h"

namespace haven::appservice {

// Gives opted-in services without device-list cursors the current stream positions.
Status init_device_list_cursors(storage::WriteTxn& txn, const Registry& registry);

// Queues, for every opted-in service, what changed since its cursors, and moves them.
Status feed_device_lists(storage::WriteTxn& txn, const Registry& registry);

// The transaction member ("\"org.matrix.msc3202.device_lists\":{...}") for the queued
// device-list items among `items`, the later ones overriding the earlier; "" when none.
std::string merge_device_lists(const std::vector<QueuedItem>& items);

}  // namespace haven::appservice
