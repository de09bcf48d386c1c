// The joining server's checks of a send_join answer (the spec's "Joining rooms": every event
// of the state and auth chain is checked before the join counts): format per the room
// version, content hashes (a mismatch keeps the redacted form), signatures, the auth rules
// against each event's auth events in auth-chain order, and the join against the state; then
// storing the accepted state and the join. Pure functions but the last (writer thread).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "homeserver/base/json.h"
#include "homeserver/base/result.h"
#include "homeserver/rooms/event.h"
#include "homeserver/rooms/room_service.h"
#include "homeserver/rooms/state_res.h"
#include "storage/store.h"

namespace haven::federation {

struct SendJoinResponse {
  const rooms::RoomVersion* version = nullptr;
  std::vector<rooms::EventPtr> events;  // state and auth chain, each event once
  std::set<std::string> state_ids;      // which of them the answer's state lists
  std::set<std::string> redacted;       // which of them are kept redacted (bad content hash)
  rooms::EventPtr join;                 // this server's join, or the resident's countersigned copy
};

// Reads `state`, `auth_chain` and `event` of the answer. Events that are not valid PDUs of
// `version` are left out (and so fail the auth checks of what needs them); the answer itself
// must have both lists. M_UNKNOWN (502) for a malformed answer.
Status parse_send_join_response(const json::Value& body, const rooms::RoomVersion& version,
                                const rooms::EventPtr& join, SendJoinResponse* out);

struct AcceptedJoinState {
  const rooms::RoomVersion* version = nullptr;
  std::vector<rooms::EventPtr> events;  // accepted events, to store
  std::set<std::string> redacted;       // which of them are the redacted form
  rooms::StateIds state;                // the state before the join
  rooms::EventPtr join;
};

// Drops events with bad signatures (`signatures[i]` is events[i]'s check) and events the
// auth rules reject against their auth events; then requires the state's create event to be
// this room's and the join to pass against its auth events and the state.
Result<AcceptedJoinState> resolve_send_join_response(const SendJoinResponse& response,
                                                     const std::vector<Status>& signatures,
                                                     const std::string& room_id);

// Stores the accepted events as outliers, then appends the join on the state (which becomes
// the room's current state; what this server knew of the room before is replaced). False when
// the join was stored already.
Result<bool> store_accepted_join(storage::WriteTxn& txn, const AcceptedJoinState& accepted,
                                 const std::string& room_id, const rooms::LocalServer& local);

}  // namespace haven::federation
