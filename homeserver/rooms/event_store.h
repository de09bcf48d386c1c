// Persistence of rooms: events, the timeline, state groups (state after every event), current
// state and memberships. Reads take a ReadTxn (any thread); writes take a WriteTxn (writer
// thread, inside a Store job). Decides nothing: the room core checks events before they get here.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "homeserver/rooms/event.h"
#include "homeserver/rooms/room_version.h"
#include "homeserver/rooms/state.h"
#include "storage/store.h"

namespace haven::rooms {

struct RoomRecord {
  std::string room_id;
  std::string version;
  uint64_t state_group = 0;  // current state
  std::vector<std::string> extremities;
  int64_t depth = 0;
  uint64_t last_pos = 0;  // stream position of the newest event
};

struct StoredEvent {
  EventPtr event;
  uint64_t pos = 0;          // position in the events stream
  uint64_t state_group = 0;  // state after this event
  bool redacted = false;     // the stored copy is the redacted form
};

struct Membership {
  std::string membership;  // join, invite, leave, ban, knock
  std::string event_id;
  uint64_t pos = 0;
};

// Reads.
std::optional<RoomRecord> get_room(storage::ReadTxn& txn, std::string_view room_id);
std::optional<StoredEvent> get_event(storage::ReadTxn& txn, std::string_view event_id);
std::optional<std::string> redacted_by(storage::ReadTxn& txn, std::string_view event_id);
EventPtr current_state_event(storage::ReadTxn& txn, std::string_view room_id, std::string_view type,
                             std::string_view state_key);
// The full state at a state group.
StateMap state_at_group(storage::ReadTxn& txn, uint64_t group);
// Event ids of the state at a state group, without loading the events.
std::map<StateKey, std::string> state_ids_at_group(storage::ReadTxn& txn, uint64_t group);
std::optional<Membership> membership(storage::ReadTxn& txn, std::string_view user_id,
                                     std::string_view room_id);
std::vector<std::pair<std::string, Membership>> rooms_of_user(storage::ReadTxn& txn,
                                                              std::string_view user_id);
// (user_id, membership) of everyone with a membership in the room.
std::vector<std::pair<std::string, std::string>> members_of_room(storage::ReadTxn& txn,
                                                                 std::string_view room_id);
// The newest position of the events stream.
uint64_t current_events_pos(storage::ReadTxn& txn);
// Visits the room's events by stream position from `from_pos` (inclusive) in `dir`, until
// `visit` returns false.
void scan_timeline(storage::ReadTxn& txn, std::string_view room_id, uint64_t from_pos,
                   storage::Direction dir,
                   const std::function<bool(uint64_t pos, std::string_view event_id)>& visit);

// Visits the global events stream after `after_pos` in order, until `visit` returns false.
void scan_events_stream(
    storage::ReadTxn& txn, uint64_t after_pos,
    const std::function<bool(uint64_t pos, std::string_view room_id, std::string_view event_id)>&
        visit);

// Visits events relating to `parent_id` (of `rel_type`, or any type when empty) by stream
// position, from `from_pos` (0 = the start in `dir`; only with a rel_type), until `visit`
// returns false. visit(pos, rel_type, event_id).
void scan_relations(
    storage::ReadTxn& txn, std::string_view parent_id, std::string_view rel_type, uint64_t from_pos,
    storage::Direction dir,
    const std::function<bool(uint64_t pos, std::string_view rel_type, std::string_view id)>& visit);

// The current state of a room, read through a transaction (the writer's, during sends).
class CurrentStateView : public StateView {
 public:
  CurrentStateView(storage::ReadTxn& txn, std::string room_id)
      : txn_(txn), room_id_(std::move(room_id)) {}
  EventPtr get(std::string_view type, std::string_view state_key) const override;

 private:
  storage::ReadTxn& txn_;
  std::string room_id_;
};

// Writes.
storage::Status put_room(storage::WriteTxn& txn, const RoomRecord& room);
// Appends an accepted event to its room: assigns the next stream position, records the
// state after it, updates current state, memberships and the room record (extremities,
// depth). Returns the stream position.
uint64_t append_event(storage::WriteTxn& txn, RoomRecord& room, const Event& event,
                      storage::Status* status);
// Writes a state group holding `state`: a delta over `base` when `state` keeps every key of
// `base` (0: none) and the chain below it is short, else the full state. Returns its id.
uint64_t put_state_group(storage::WriteTxn& txn, uint64_t base,
                         const std::map<StateKey, std::string>& state, storage::Status* status);
// The state group before an event (kEventStateGroup), for the events whose state before was
// recorded (those received with prev events, see state_at_event.h).
storage::Status put_state_group_before(storage::WriteTxn& txn, std::string_view event_id,
                                       uint64_t group);
std::optional<uint64_t> state_group_before(storage::ReadTxn& txn, std::string_view event_id);
// Replaces the stored copy of `event_id` with its redacted form and remembers the redaction.
storage::Status store_redaction(storage::WriteTxn& txn, std::string_view event_id,
                                const rapidjson::Value& redacted_pdu,
                                std::string_view redaction_event_id);

// Events from other servers that are not appended on top of this server's current state.
// An outlier: an event known by id (the state and auth chain a resident server sent with a
// join, an invite's room) outside the room's timeline: stream position 0, state group 0.
// Nothing when the event is stored already.
storage::Status store_outlier(storage::WriteTxn& txn, const Event& event);
// Makes `group` the room's current state: rewrites the current state rows and the memberships
// that differ from the room's state group, and the room record. The events must be stored.
storage::Status set_current_state(storage::WriteTxn& txn, RoomRecord& room, uint64_t group);
// A membership event of a local user in a room this server is not in (an invite from another
// server, the rejection of one): a stream position so that /sync sees it, and the membership
// record; no room record, timeline or state. Returns the position.
uint64_t append_membership_outside_room(storage::WriteTxn& txn, const Event& event,
                                        storage::Status* status);

}  // namespace haven::rooms
