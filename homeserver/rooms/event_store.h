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

#include "homeserver/base/result.h"
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
  // Received over federation and soft-failed: not in the timeline, not a forward extremity.
  bool soft_failed = false;
  // Known only as an auth or state event (fetched to check others): no stream position and no
  // known state after it (state_group 0).
  bool outlier = false;
};

struct Membership {
  std::string membership;  // join, invite, leave, ban, knock
  std::string event_id;
  uint64_t pos = 0;
};

// Reads.
std::optional<RoomRecord> get_room(storage::ReadTxn& txn, std::string_view room_id);
std::optional<StoredEvent> get_event(storage::ReadTxn& txn, std::string_view event_id);
// The plain part of a stored event's record (no decryption): enough to remove it and its
// indexes after its room's at-rest key is gone.
struct StoredEventHeader {
  std::string room_id;  // empty for a record from before at-rest keys
  uint64_t pos = 0;
  uint64_t state_group = 0;
};
std::optional<StoredEventHeader> get_event_header(storage::ReadTxn& txn, std::string_view event_id);
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
// Stores `event` as an outlier (see StoredEvent), the redacted form when `redacted`; an event
// already stored is left as it is.
storage::Status put_outlier(storage::WriteTxn& txn, const Event& event, bool redacted);
// Remembers that the PDU `event_id` was rejected by the auth rules, with the state group before
// it (0 when unknown): the state after a rejected event is the state before it.
storage::Status put_rejected(storage::WriteTxn& txn, std::string_view event_id, uint64_t group);
// The state group before a rejected event (0: unknown); nullopt when it was not rejected.
std::optional<uint64_t> rejected_event(storage::ReadTxn& txn, std::string_view event_id);

// Ties mxc://server/media_id to the room (kRoomMedia and kMediaRooms), so purging the room finds
// it. Events are indexed as they are stored (the mxc URIs in their plain JSON); the content
// repository adds the uploads of a guest whose token reaches only this room.
storage::Status link_room_media(storage::WriteTxn& txn, std::string_view room_id,
                                std::string_view server, std::string_view media_id);

// The building blocks of rooms::append_event_at_state (state_at_event.h).
struct EventRecord {
  uint64_t pos = 0;          // 0 for a soft-failed event
  uint64_t state_group = 0;  // after the event
  bool redacted = false;
  bool soft_failed = false;
  bool outlier = false;
};
storage::Status put_event_record(storage::WriteTxn& txn, const Event& event,
                                 std::string_view version, const EventRecord& record);
// Puts an event into its room's timeline and the events stream at `pos`, and indexes its
// relation.
storage::Status put_in_timeline(storage::WriteTxn& txn, const Event& event, uint64_t pos);
// Sets one entry of the room's current state (and the membership record of a member event) to
// `event` at stream position `pos`; nullptr removes the entry.
storage::Status set_current_state_entry(storage::WriteTxn& txn, std::string_view room_id,
                                        const StateKey& key, const Event* event, uint64_t pos);
// A new state group: `base` plus (type, state_key) -> event_id.
uint64_t add_to_state_group(storage::WriteTxn& txn, uint64_t base, const std::string& type,
                            const std::string& state_key, const std::string& event_id,
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

// Start-up migration to at-rest keys: seals the events stored in the old plain form, at most
// `budget` of them, among those after event id `after` ("" = from the first).
struct SealStep {
  std::optional<std::string> last;  // the last event id looked at; nullopt once none are left
  size_t sealed = 0;
};
Result<SealStep> seal_plain_events_step(storage::WriteTxn& txn, std::string_view after,
                                        size_t budget);

// A membership event of a local user in a room this server is not in (an invite from another
// server, the rejection of one): a stream position so that /sync sees it, and the membership
// record; no room record, timeline or state. Returns the position.
uint64_t append_membership_outside_room(storage::WriteTxn& txn, const Event& event,
                                        storage::Status* status);

}  // namespace haven::rooms
