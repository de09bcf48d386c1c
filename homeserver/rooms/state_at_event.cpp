#include "homeserver/rooms/state_at_event.h"

#include <algorithm>
#include <set>

#include "homeserver/base/write.h"

namespace haven::rooms {

namespace {

// The state group after an event: its own for a stored event with known state, the group
// before it for a rejected one (a rejected event changes nothing); nullopt when not known.
std::optional<uint64_t> group_after(storage::ReadTxn& txn, const std::string& event_id) {
  if (auto stored = get_event(txn, event_id); stored && stored->state_group != 0) {
    return stored->state_group;
  }
  if (auto rejected = rejected_event(txn, event_id); rejected && *rejected != 0) return *rejected;
  return std::nullopt;
}

// The state groups after each prev event, in the order given, without repeats. With
// `skip_unknown`, prev events without a known state are left out instead of failing.
Result<std::vector<uint64_t>> groups_after(storage::ReadTxn& txn,
                                           const std::vector<std::string>& prev_events,
                                           bool skip_unknown = false) {
  if (prev_events.empty()) return Error::bad_json("An event without prev_events has no state");
  std::vector<uint64_t> groups;
  std::set<uint64_t> seen;
  for (const std::string& id : prev_events) {
    auto group = group_after(txn, id);
    if (!group && skip_unknown) continue;
    if (!group) return Error::not_found("Unknown prev event " + id);
    if (seen.insert(*group).second) groups.push_back(*group);
  }
  return groups;
}

Result<StateIds> resolve_sets(storage::ReadTxn& txn, const RoomVersion& version,
                              const std::vector<uint64_t>& groups) {
  std::vector<StateIds> sets;
  for (uint64_t g : groups) sets.push_back(state_ids_at_group(txn, g));
  if (sets.size() == 1) return std::move(sets.front());
  return resolve_state(version, sets, StoredEvents(txn));
}

// The one group of `groups`, or a new group holding the resolution of theirs (written as a
// delta over the first).
Result<uint64_t> group_of_resolution(storage::WriteTxn& txn, const RoomVersion& version,
                                     const std::vector<uint64_t>& groups) {
  if (groups.size() == 1) return groups.front();
  auto state = resolve_sets(txn, version, groups);
  if (!state.ok()) return std::move(state).error();
  storage::Status status;
  uint64_t group = put_state_group(txn, groups.front(), *state, &status);
  if (!status.ok()) return Error::unknown("Cannot store the state: " + status.message());
  return group;
}

// The room's current state group for its forward extremities: the one group they share, or a
// new group holding the resolution of theirs.
Result<uint64_t> current_group(storage::WriteTxn& txn, const RoomVersion& version,
                               const std::vector<std::string>& extremities) {
  auto groups = groups_after(txn, extremities, /*skip_unknown=*/true);
  if (!groups.ok()) return std::move(groups).error();
  if (groups->empty()) return Error::unknown("The room's forward extremities have no state");
  return group_of_resolution(txn, version, *groups);
}

// Moves the current state (and memberships) from group `from` to group `to`.
Status update_current_state(storage::WriteTxn& txn, const std::string& room_id, uint64_t from,
                            uint64_t to, const Event& appended, uint64_t pos) {
  StateIds before = state_ids_at_group(txn, from);
  StateIds after = state_ids_at_group(txn, to);
  auto position_of = [&](const std::string& id, const StoredEvent& stored) {
    return id == appended.event_id() || stored.pos == 0 ? pos : stored.pos;
  };
  for (const auto& [key, id] : after) {
    auto old = before.find(key);
    if (old != before.end() && old->second == id) continue;
    auto stored = get_event(txn, id);
    if (!stored) continue;  // resolution only keeps events it could read
    HAVEN_TRY(check(set_current_state_entry(txn, room_id, key, stored->event.get(),
                                            position_of(id, *stored))));
  }
  for (const auto& [key, id] : before) {
    if (after.contains(key)) continue;
    HAVEN_TRY(check(set_current_state_entry(txn, room_id, key, nullptr, pos)));
  }
  return {};
}

}  // namespace

EventPtr StoredEvents::find(std::string_view event_id) const {
  auto stored = get_event(txn_, event_id);
  return stored ? stored->event : nullptr;
}

Result<StateIds> state_before_event(storage::ReadTxn& txn, const RoomVersion& version,
                                    const std::vector<std::string>& prev_events) {
  auto groups = groups_after(txn, prev_events);
  if (!groups.ok()) return std::move(groups).error();
  return resolve_sets(txn, version, *groups);
}

Result<uint64_t> state_group_before_event(storage::WriteTxn& txn, const RoomVersion& version,
                                          const std::vector<std::string>& prev_events) {
  auto groups = groups_after(txn, prev_events);
  if (!groups.ok()) return std::move(groups).error();
  return group_of_resolution(txn, version, *groups);
}

std::vector<std::string> prev_events_without_state(storage::ReadTxn& txn,
                                                   const std::vector<std::string>& prev_events) {
  std::vector<std::string> out;
  for (const std::string& id : prev_events) {
    if (!group_after(txn, id)) out.push_back(id);
  }
  return out;
}

Result<uint64_t> append_event_at_state(storage::WriteTxn& txn, RoomRecord& room, const Event& ev,
                                       const AppendAtState& how) {
  const RoomVersion* version = find_room_version(room.version);
  if (!version) return Error::unknown("Room has an unsupported version");
  storage::Status status;
  uint64_t after = how.state_group_before;
  if (ev.state_key()) {
    after = add_to_state_group(txn, how.state_group_before, ev.type(), *ev.state_key(),
                               ev.event_id(), &status);
    HAVEN_TRY(check(status));
  }
  HAVEN_TRY(check(put_state_group_before(txn, ev.event_id(), how.state_group_before)));
  if (how.soft_failed) {
    HAVEN_TRY(check(put_event_record(txn, ev, room.version, {0, after, how.redacted, true})));
    return uint64_t{0};
  }
  const uint64_t pos = txn.next_counter("events");
  HAVEN_TRY(check(put_event_record(txn, ev, room.version, {pos, after, how.redacted, false})));
  HAVEN_TRY(check(put_in_timeline(txn, ev, pos)));

  std::erase_if(room.extremities, [&](const std::string& id) {
    return id == ev.event_id() ||
           std::find(ev.prev_events().begin(), ev.prev_events().end(), id) !=
               ev.prev_events().end();
  });
  room.extremities.push_back(ev.event_id());
  const uint64_t old_current = room.state_group;
  uint64_t new_current = after;
  if (room.extremities.size() > 1) {
    auto group = current_group(txn, *version, room.extremities);
    if (!group.ok()) return std::move(group).error();
    new_current = *group;
  }
  if (new_current != old_current) {
    const bool only_this_event = ev.state_key() && how.state_group_before == old_current &&
                                 new_current == after;
    if (only_this_event) {
      HAVEN_TRY(check(
          set_current_state_entry(txn, room.room_id, {ev.type(), *ev.state_key()}, &ev, pos)));
    } else {
      HAVEN_TRY(update_current_state(txn, room.room_id, old_current, new_current, ev, pos));
    }
  }
  room.state_group = new_current;
  room.depth = std::max(room.depth, ev.depth());
  room.last_pos = pos;
  HAVEN_TRY(check(put_room(txn, room)));
  return pos;
}

}  // namespace haven::rooms
