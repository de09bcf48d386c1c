// Filling the application services' outboxes (queue.h) from the server's streams: room events
// in each service's scope, to-device messages for its users (MSC2409) and ephemeral events
// (typing, receipts, presence) when it asked for them. Every function runs inside a Store job
// on the writer thread, so an item is queued in the same commit that moves the stream cursor
// or empties the inbox it came from: nothing is lost or doubled by a crash.
#pragma once

#include <string>
#include <vector>

#include "appservices/registry.h"
#include "homeserver/base/result.h"
#include "storage/store.h"

namespace haven::appservice {

// Gives services without an events cursor (new registrations) the current stream position:
// a service sees what happens from its first start on, not the server's history.
Status init_cursors(storage::WriteTxn& txn, const Registry& registry);

// Queues, for every service, the events after its cursor that are in its scope (at most
// `limit` looked at per service) and moves the cursor. Returns true while more are waiting.
Result<bool> feed_events(storage::WriteTxn& txn, const Registry& registry, size_t limit);

// Queues, for the service receiving ephemeral data whose namespace holds each of `users`, the
// to-device messages those users got since the last call (MSC2409). Messages for devices the
// service made without an access token leave their inboxes; devices with a token of their own
// (a guest's browser, a bridge's logged-in device) keep theirs for /sync as well. Users in no
// such service's namespace are left alone.
Status feed_to_device(storage::WriteTxn& txn, const Registry& registry,
                      const std::vector<std::string>& users);

// Every user (on this server) that some ephemeral-receiving service is interested in: for the
// start-up sweep of to-device inboxes filled while the server was down.
std::vector<std::string> users_of_ephemeral_services(storage::ReadTxn& txn,
                                                     const Registry& registry);

// One ephemeral event as the spec's transaction carries it.
struct Ephemeral {
  std::string type;     // m.typing, m.receipt or m.presence
  std::string room_id;  // typing and receipts
  std::string user_id;  // presence: whose; receipts: who read (for private receipts)
  bool private_receipt = false;
  std::string json;  // the whole event, room_id included for room-scoped ones
};
Status feed_ephemeral(storage::WriteTxn& txn, const Registry& registry, const Ephemeral& e);

}  // namespace haven::appservice
