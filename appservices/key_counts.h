// MSC3202 for services that opt in (org.matrix.msc3202: true): the one-time key counts and
// unused fallback key types of the service's users a transaction concerns (senders and
// membership targets of its events, recipients of its to-device messages), so an appservice
// can keep its users' devices supplied with keys. Reads through any ReadTxn (the senders'
// threads).
#pragma once

#include <string>
#include <vector>

#include "appservices/queue.h"
#include "appservices/registry.h"
#include "storage/store.h"

namespace haven::appservice {

// The two transaction body members, as JSON text without the surrounding braces
// ("\"org.matrix.msc3202.device_one_time_keys_count\":{...},..."), or "" when no user of the
// service is concerned.
std::string msc3202_key_counts(storage::ReadTxn& txn, const AppService& service,
                               const std::vector<QueuedItem>& items);

}  // namespace haven::appservice
