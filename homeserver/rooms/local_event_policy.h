// A server's own rules on top of the room auth rules, for the events its local users send (the
// care policy implements it). Every call runs inside a Store job on the writer thread.
#pragma once

#include "homeserver/base/result.h"
#include "homeserver/rooms/event.h"
#include "homeserver/rooms/event_builder.h"
#include "storage/store.h"

namespace haven::rooms {

class LocalEventPolicy {
 public:
  virtual ~LocalEventPolicy() = default;
  // Before the event is built: may refuse it or adjust its content (it is not signed yet).
  virtual Status prepare(storage::WriteTxn& txn, EventDraft& draft) const = 0;
  // After the auth rules allowed `event`: M_FORBIDDEN with a reason when the policy does not.
  virtual Status check(storage::WriteTxn& txn, const Event& event) const = 0;
  // After `event` was appended, in the same transaction: the policy's own bookkeeping.
  virtual Status appended(storage::WriteTxn& txn, const Event& event) const = 0;
  // An event of another server's user that concerns this server (an invite of a local user,
  // a join to a room of this server), after the auth rules allowed it: M_FORBIDDEN with a
  // reason when the policy does not.
  virtual Status check_remote(storage::ReadTxn& /*txn*/, const Event& /*event*/) const {
    return {};
  }
};

}  // namespace haven::rooms
