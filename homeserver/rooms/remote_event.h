// Events received from other servers, after their signatures and content hash were checked:
// the spec's remaining checks on receipt of a PDU (auth against its auth events, against the
// state before it, soft failure against the current state) and where each outcome is stored.
// Every function runs inside a Store job on the writer thread, so a room's events are
// checked against each other's effects in order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "homeserver/base/result.h"
#include "homeserver/rooms/event.h"
#include "homeserver/rooms/local_event_policy.h"
#include "homeserver/rooms/state_res.h"
#include "storage/store.h"

namespace haven::rooms {

struct ReceivedEvent {
  enum class Outcome {
    kAccepted,     // in the timeline, a forward extremity, its state applied
    kSoftFailed,   // stored, allowed by the state before it but not by the current state
    kRejected,     // refused by the auth rules; remembered so that it is never used
    kAlreadyKnown  // stored (or rejected) before
  };
  Outcome outcome = Outcome::kAccepted;
  uint64_t pos = 0;    // stream position of an accepted event
  std::string reason;  // why it was rejected or soft-failed
};

// Checks 4 to 6 of "Checks performed on receipt of a PDU" and stores the event accordingly
// (append_event_at_state; an accepted m.room.redaction is applied when its sender may redact
// the target). M_NOT_FOUND for a room this server does not hold, for prev events whose state
// is not known or auth events it does not hold (fetch them first): nothing is remembered then.
// A rejection is an outcome, not an error.
// `redacted`: the event is the redacted form of the PDU, whose content hash did not match.
// `policy`, when given, is this server's rule for remote users (check_remote): an event it
// refuses is soft-failed, as one the current state does not allow.
Result<ReceivedEvent> receive_event(storage::WriteTxn& txn, const EventPtr& event, bool redacted,
                                    const LocalEventPolicy* policy = nullptr);

// Stores an event known only as an auth or state event of others (an outlier: no place in the
// timeline) after checking it against its auth events, which must be stored already
// (M_NOT_FOUND otherwise). kAccepted, kRejected (remembered) or kAlreadyKnown.
Result<ReceivedEvent> receive_outlier(storage::WriteTxn& txn, const EventPtr& event, bool redacted);

// Records the state after a stored outlier, from the state before it that another server gave
// (/state_ids, every event of it stored): events built on the outlier then have a known state
// before them. M_NOT_FOUND when the outlier is not stored.
Status record_state_after_outlier(storage::WriteTxn& txn, const std::string& event_id,
                                  const std::vector<std::string>& state_before_ids);

}  // namespace haven::rooms
