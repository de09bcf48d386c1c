// Room state: the (type, state_key) -> event map the auth rules read, as an abstract view and
// as an in-memory map, plus readers for the state the rules consult. A StateMap is a value:
// not synchronised, use from one thread at a time; the free functions are pure.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "homeserver/rooms/event.h"

namespace haven::rooms {

using StateKey = std::pair<std::string, std::string>;  // (type, state_key)

class StateView {
 public:
  virtual ~StateView() = default;
  // The state event at (type, state_key), or nullptr.
  virtual EventPtr get(std::string_view type, std::string_view state_key) const = 0;
};

// Orders StateKeys and lets lookups use string_view pairs without copying.
struct StateKeyLess {
  using is_transparent = void;
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    std::string_view at(a.first), bt(b.first);
    if (at != bt) return at < bt;
    return std::string_view(a.second) < std::string_view(b.second);
  }
};

class StateMap : public StateView {
 public:
  using Map = std::map<StateKey, EventPtr, StateKeyLess>;

  EventPtr get(std::string_view type, std::string_view state_key) const override;
  // Stores a state event under its (type, state_key); message events are ignored.
  void set(EventPtr event);
  void erase(std::string_view type, std::string_view state_key);
  bool contains(std::string_view type, std::string_view state_key) const;
  size_t size() const { return map_.size(); }
  bool empty() const { return map_.empty(); }
  Map::const_iterator begin() const { return map_.begin(); }
  Map::const_iterator end() const { return map_.end(); }

 private:
  Map map_;
};

// The room's m.room.create event, or nullptr.
EventPtr create_event(const StateView& state);
// content.membership of the user's m.room.member event; "" when there is none.
std::string membership_of(const StateView& state, std::string_view user_id);
// content.join_rule; "invite" when there is no join_rules event (the auth rules' default).
std::string join_rule(const StateView& state);
// content.history_visibility; "shared" when absent or not one of the four known values.
std::string history_visibility(const StateView& state);
// The room creators: v10 content.creator, v11 the create sender, v12 the sender plus
// content.additional_creators. Empty without a create event.
std::vector<std::string> room_creators(const Event& create, const RoomVersion& version);

}  // namespace haven::rooms
