// The steps of state resolution v2/v2.1 as the spec defines them (rooms/v2 and rooms/v12,
// "Definitions" and "Algorithm"), each usable and testable on its own; resolve_state (state_res.h)
// chains them. Pure functions over an EventSource; any thread.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "homeserver/base/result.h"
#include "homeserver/rooms/event.h"
#include "homeserver/rooms/room_version.h"
#include "homeserver/rooms/state_res.h"

namespace haven::rooms::state_res {

// Ordered, so that every walk over it is deterministic.
using EventIdSet = std::set<std::string>;

// The unconflicted state map and the conflicted state set. A key missing from some state set
// is conflicted (its value is not "the same in every state set").
struct ConflictSplit {
  StateIds unconflicted;
  std::map<StateKey, EventIdSet> conflicted;

  // Every event id of the conflicted state set.
  EventIdSet conflicted_ids() const;
};
ConflictSplit split_conflicts(const std::vector<StateIds>& state_sets);

// The events reachable from `start` through auth_events, `start` itself included when
// `include_start`; the walk does not enter events in `stop` (whose auth chains the caller
// already has). Unknown events are left out. M_TOO_LARGE past `limit` events.
Result<EventIdSet> auth_chain(const EventSource& events, const std::vector<std::string>& start,
                              bool include_start, const EventIdSet& stop = {},
                              size_t limit = kMaxStateResEvents);

// The auth difference: ∪Ci − ∩Ci, Ci the full auth chain of state set i. As Synapse does, Ci
// includes the events of state set i themselves: this only keeps out of the difference
// unconflicted events (which step 5 restores anyway), and matching the implementation most
// of the federation runs keeps rooms converging.
Result<EventIdSet> auth_difference(const EventSource& events,
                                   const std::vector<StateIds>& state_sets);

// v2.1: the conflicted state subgraph, every event on an auth_events path between two events
// of `conflicted` (endpoints included).
Result<EventIdSet> conflicted_subgraph(const EventSource& events, const EventIdSet& conflicted);

// m.room.power_levels, m.room.join_rules, or a leave/ban of someone else.
bool is_power_event(const Event& event);

// The sender's power level per the event's own auth events (v12: the room's create event too,
// whose creators are above every level).
int64_t sender_power_level(const Event& event, const RoomVersion& version,
                           const EventSource& events);

// Step 1: the power events of the full conflicted set and the events of their auth chains that
// are in it, in the reverse topological power ordering (Kahn's algorithm, the smallest ready
// event first: higher sender power level, then lower origin_server_ts, then lower event id).
// As Synapse and Ruma do, the auth chains are followed through the full conflicted set only.
std::vector<EventPtr> reverse_topological_power_order(const std::vector<EventPtr>& power_events,
                                                      const EventIdSet& full_conflicted_set,
                                                      const RoomVersion& version,
                                                      const EventSource& events);

// Step 3: `events` in the mainline ordering based on `power_levels` (nullptr: no power levels,
// every event then has the same mainline position).
std::vector<EventPtr> mainline_order(std::vector<EventPtr> events, const EventPtr& power_levels,
                                     const EventSource& events_source);

// Steps 2 and 4: applies each event of `sorted` to `state` when the auth rules allow it against
// `state`, taking keys `state` lacks (or holds a rejected event for) from the event's own
// non-rejected auth events. v12 events are checked with the room's create event.
StateIds iterative_auth_checks(const RoomVersion& version, const std::vector<EventPtr>& sorted,
                               StateIds state, const EventSource& events);

// The event id of a v12 room's create event ("$" + the room id without "!").
std::string create_event_id_of_room(std::string_view room_id);

}  // namespace haven::rooms::state_res
