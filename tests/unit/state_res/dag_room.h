// Test support for state resolution: DagRoom, a room whose events form a DAG given by their
// prev events. Each event is built on the state before it (resolved with resolve_state when it
// has several prev events), cites its auth events from that state and must pass the auth rules
// against it, as a real server's events do. It is the EventSource the resolution reads.
// Single-threaded test code.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "homeserver/rooms/state_res.h"
#include "tests/unit/rooms/test_room.h"

namespace haven::rooms::test {

// `user` joining (their own m.room.member join).
inline EventSpec join(const std::string& user) {
  return {user, "m.room.member", user, R"({"membership":"join"})"};
}

class DagRoom : public EventSource {
 public:
  // The room with `creator`'s create event, named "CREATE".
  DagRoom(const RoomVersion& version, std::string creator);

  // Builds `spec` after the events named `prevs` and names it `name`. With `must_pass`, fails
  // the test when the auth rules refuse it against the state before it; otherwise returns
  // nullptr then (the event is not added).
  EventPtr add(const std::string& name, EventSpec spec, const std::vector<std::string>& prevs,
               bool must_pass = true);

  EventPtr find(std::string_view event_id) const override;

  // The state before an event whose prev events are `prevs` (resolved when there are several).
  StateIds state_before(const std::vector<std::string>& prevs) const;
  const StateIds& state_after(const std::string& name) const { return after_.at(name); }
  const std::string& id(const std::string& name) const { return ids_.at(name); }
  const EventPtr& event(const std::string& name) const { return find_named(name); }
  // The name of an event id ("?" when unknown), for readable failures.
  std::string name_of(const std::string& event_id) const;
  // `state` with names instead of event ids.
  std::string describe(const StateIds& state) const;
  // The state with these named events' ids, as a StateMap to check events against.
  StateMap load(const StateIds& state) const;
  const RoomVersion& version() const { return room_.version; }
  const std::string& room_id() const { return room_.room_id; }

 private:
  const EventPtr& find_named(const std::string& name) const;

  TestRoom room_;
  std::map<std::string, EventPtr, std::less<>> by_id_;
  std::map<std::string, std::string> ids_;    // name -> event id
  std::map<std::string, std::string> names_;  // event id -> name
  std::map<std::string, EventPtr> named_;
  std::map<std::string, StateIds> after_;
};

}  // namespace haven::rooms::test
