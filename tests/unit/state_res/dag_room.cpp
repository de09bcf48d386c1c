#include "tests/unit/state_res/dag_room.h"

#include <boost/test/unit_test.hpp>

namespace haven::rooms::test {

DagRoom::DagRoom(const RoomVersion& version, std::string creator)
    : room_(version, std::move(creator)) {
  const EventPtr& create = room_.create;
  by_id_.emplace(create->event_id(), create);
  ids_.emplace("CREATE", create->event_id());
  names_.emplace(create->event_id(), "CREATE");
  named_.emplace("CREATE", create);
  after_["CREATE"][{"m.room.create", ""}] = create->event_id();
}

EventPtr DagRoom::find(std::string_view event_id) const {
  auto it = by_id_.find(event_id);
  return it == by_id_.end() ? nullptr : it->second;
}

const EventPtr& DagRoom::find_named(const std::string& name) const {
  auto it = named_.find(name);
  BOOST_REQUIRE_MESSAGE(it != named_.end(), "no event named " << name);
  return it->second;
}

StateIds DagRoom::state_before(const std::vector<std::string>& prevs) const {
  std::vector<StateIds> sets;
  for (const std::string& p : prevs) sets.push_back(after_.at(p));
  auto state = resolve_state(room_.version, sets, *this);
  BOOST_REQUIRE_MESSAGE(state.ok(),
                        "resolution failed: " << (state.ok() ? "" : state.error().message));
  return std::move(state.value());
}

StateMap DagRoom::load(const StateIds& state) const {
  StateMap out;
  for (const auto& [key, id] : state) out.set(find(id));
  return out;
}

EventPtr DagRoom::add(const std::string& name, EventSpec spec,
                      const std::vector<std::string>& prevs, bool must_pass) {
  BOOST_REQUIRE_MESSAGE(!ids_.contains(name), "event name reused: " << name);
  StateIds before = state_before(prevs);
  rapidjson::Document content = parse(spec.content);
  std::vector<std::string> auth;
  for (const StateKey& key :
       auth_types_for_event(spec.type, spec.sender, spec.state_key, content, room_.version)) {
    if (auto it = before.find(key); it != before.end()) auth.push_back(it->second);
  }
  spec.auth_events = auth;
  spec.prev_events = std::vector<std::string>();
  for (const std::string& p : prevs) spec.prev_events->push_back(id(p));
  EventPtr ev = room_.make(spec);
  ++room_.next_ts;
  Status allowed = check_auth(*ev, load(before), room_.version);
  if (!allowed.ok()) {
    BOOST_REQUIRE_MESSAGE(!must_pass, name << " refused: " << allowed.error().message);
    return nullptr;
  }
  by_id_.emplace(ev->event_id(), ev);
  ids_.emplace(name, ev->event_id());
  names_.emplace(ev->event_id(), name);
  named_.emplace(name, ev);
  if (ev->state_key()) before[{ev->type(), *ev->state_key()}] = ev->event_id();
  after_.emplace(name, std::move(before));
  return ev;
}

std::string DagRoom::name_of(const std::string& event_id) const {
  auto it = names_.find(event_id);
  return it == names_.end() ? "?" : it->second;
}

std::string DagRoom::describe(const StateIds& state) const {
  std::string out = "{";
  for (const auto& [key, id] : state) {
    out += " (" + key.first + "," + key.second + ")=" + name_of(id);
  }
  return out + " }";
}

}  // namespace haven::rooms::test
