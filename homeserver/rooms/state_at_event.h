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

}  // namespace haven::rooms
