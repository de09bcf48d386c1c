#include "homeserver/rooms/state_at_event.h"

#include <set>

#include "homeserver/rooms/event_store.h"

namespace haven::rooms {

namespace {

// The state groups after each prev event, in the order given, without repeats.
Result<std::vector<uint64_t>> groups_after(storage::ReadTxn& txn,
                                           const std::vector<std::string>& prev_events) {
  if (prev_events.empty()) return Error::bad_json("An event without prev_events has no state");
  std::vector<uint64_t> groups;
  std::set<uint64_t> seen;
  for (const std::string& id : prev_events) {
    auto stored = get_event(txn, id);
    if (!stored) return Error::not_found("Unknown prev event " + id);
    if (seen.insert(stored->state_group).second) groups.push_back(stored->state_group);
  }
  return groups;
}

Result<StateIds> resolve_groups(storage::ReadTxn& txn, const RoomVersion& version,
                                const std::vector<uint64_t>& groups) {
  std::vector<StateIds> sets;
  for (uint64_t g : groups) sets.push_back(state_ids_at_group(txn, g));
  return resolve_state(version, sets, StoredEvents(txn));
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
  return resolve_groups(txn, version, *groups);
}

Result<uint64_t> state_group_before_event(storage::WriteTxn& txn, const RoomVersion& version,
                                          const std::vector<std::string>& prev_events) {
  auto groups = groups_after(txn, prev_events);
  if (!groups.ok()) return std::move(groups).error();
  if (groups->size() == 1) return groups->front();
  auto state = resolve_groups(txn, version, *groups);
  if (!state.ok()) return std::move(state).error();
  storage::Status status;
  uint64_t group = put_state_group(txn, groups->front(), *state, &status);
  if (!status.ok()) return Error::unknown("Cannot store the state: " + status.message());
  return group;
}

}  // namespace haven::rooms
