// Local event creation on top of the room core and the event store: build a new event on the
// room's current state, check it, append it, apply redactions; create whole rooms from the
// createRoom template. Every function here runs inside a Store job on the writer thread, so
// all sends to a room are serialised and see each other's state.
#pragma once

#include <string>
#include <vector>

#include "crypto/ed25519.h"
#include "homeserver/base/result.h"
#include "homeserver/rooms/create_room.h"
#include "homeserver/rooms/event.h"
#include "homeserver/rooms/event_builder.h"
#include "homeserver/rooms/local_event_policy.h"
#include "homeserver/rooms/outbound.h"
#include "storage/store.h"

namespace haven::rooms {

struct LocalServer {
  std::string server_name;
  const crypto::SigningKey* key = nullptr;
  // Consulted for every event sent through this server; nullptr: the auth rules alone (the
  // operator's own actions, such as deleting a room, and servers without the care rules).
  const LocalEventPolicy* policy = nullptr;
  // Queues every appended event for the other servers in its room; nullptr: no federation.
  const Outbound* outbound = nullptr;
};

struct SentEvent {
  EventPtr event;
  uint64_t pos = 0;
};

// Builds `draft` on the current state of draft.room_id, checks the auth rules, appends it.
// M_NOT_FOUND when the room is unknown; M_FORBIDDEN (with the failed rule) when not allowed.
Result<SentEvent> send_event(storage::WriteTxn& txn, const LocalServer& server, EventDraft draft);

// Builds `draft` as send_event does and checks it (auth rules, policy) without appending it:
// for an invite that the invited user's server must countersign first.
Result<EventPtr> prepare_event(storage::WriteTxn& txn, const LocalServer& server, EventDraft draft);

// Appends `event`, built and signed earlier by this server (build_event) and since signed by
// another server too (an invite), after checking it again against the current state and the
// policy. M_FORBIDDEN when it is no longer allowed.
Result<SentEvent> append_built_event(storage::WriteTxn& txn, const LocalServer& server,
                                     const EventPtr& event);

// Creates a room from the createRoom template; the first event's room id is the new room's.
// `options` gives encryption and the creator's profile; room_id and now_ms are filled here.
Result<std::vector<SentEvent>> create_room(storage::WriteTxn& txn, const LocalServer& server,
                                           const CreateRoomRequest& request,
                                           const std::string& creator, const RoomVersion& version,
                                           CreateRoomOptions options);

}  // namespace haven::rooms
