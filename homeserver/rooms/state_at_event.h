// The state at every event of a room whose DAG may fork (events received over federation): the
// state before an event from the states after its prev events, resolved when there are several,
// and where the store keeps it. Reads take a ReadTxn (any thread); writes a WriteTxn (writer
// thread, inside a Store job).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "homeserver/base/result.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/room_version.h"
#include "homeserver/rooms/state_res.h"
#include "storage/store.h"

namespace haven::rooms {

// The events of the store, read through one transaction, as state resolution reads them.
class StoredEvents : public EventSource {
 public:
  explicit StoredEvents(storage::ReadTxn& txn) : txn_(txn) {}
  EventPtr find(std::string_view event_id) const override;

 private:
  storage::ReadTxn& txn_;
};

// The state before an event whose prev events are `prev_events`: the state after the one prev
// event, or the resolution of the states after each (rooms v10/v11: v2, v12: v2.1). M_NOT_FOUND
// naming a prev event the store does not hold: the caller first fetches missing prev events
// (or takes the state at them from /state_ids). M_BAD_JSON for no prev events.
Result<StateIds> state_before_event(storage::ReadTxn& txn, const RoomVersion& version,
                                    const std::vector<std::string>& prev_events);

// As state_before_event, as a state group: the prev event's own group when there is one prev
// event or all prev events share their state, else a new group holding the resolved state
// (written as a delta over the first prev event's group where it can be).
Result<uint64_t> state_group_before_event(storage::WriteTxn& txn, const RoomVersion& version,
                                          const std::vector<std::string>& prev_events);

// The prev events whose state after is not known here: not stored, stored only as outliers,
// or rejected with an unknown state before them. Gap filling fetches these first.
std::vector<std::string> prev_events_without_state(storage::ReadTxn& txn,
                                                   const std::vector<std::string>& prev_events);

// How an event received over federation joins its room.
struct AppendAtState {
  uint64_t state_group_before = 0;  // from state_group_before_event
  bool soft_failed = false;         // stored, but neither in the timeline nor an extremity
  bool redacted = false;            // the stored copy is the redacted form (bad content hash)
};

// Appends an accepted event whose DAG may fork: records the state before and after it, makes
// it a forward extremity in place of its prev events, and sets the room's current state to the
// resolution of the extremities' states when they differ (rooms v10/v11: v2, v12: v2.1), with
// the memberships that follow. Returns the event's stream position (0 when soft-failed).
// Writer thread, inside a Store job, like append_event.
Result<uint64_t> append_event_at_state(storage::WriteTxn& txn, RoomRecord& room, const Event& event,
                                       const AppendAtState& how);

}  // namespace haven::rooms
