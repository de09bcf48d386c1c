// The push rule evaluator: which rule of a user's ruleset matches an event, and what its
// actions ask for. Includes the spec's glob matching and dot-separated property paths.
// Pure functions of their inputs; any thread.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "homeserver/base/glob.h"
#include "homeserver/push/push_rules.h"
#include "storage/store.h"
#include "homeserver/rooms/event.h"

namespace haven::push {

// What the conditions need to know besides the event.
struct PushContext {
  std::string user_id;
  std::string display_name;       // the user's display name in the room; "" when none
  int64_t room_member_count = 0;  // joined members
  int64_t sender_power_level = 0;
  // m.room.power_levels content.notifications; a key that is absent needs 50.
  std::map<std::string, int64_t, std::less<>> notification_levels;
};

struct PushResult {
  bool notify = false;
  bool highlight = false;
  std::optional<std::string> sound;
  std::string rule_id;  // the matching rule; "" when none matched
  std::vector<Action> actions;
};

// Evaluates `rules` against `event` for the user in `ctx`: the first enabled matching rule in
// priority order decides. The user's own events never notify.
PushResult evaluate(const Ruleset& rules, const rooms::Event& event, const PushContext& ctx);

// What `user_id`'s rules say about `event` (in `room_id`, as the room is now), with the
// context built from the room's current state: for pushers. (unread_counts.cpp)
PushResult evaluate_for_user(storage::ReadTxn& txn, std::string_view room_id,
                             std::string_view user_id, const rooms::Event& event,
                             const UnreadInputs& known = {});

// True when the rule matches (ignores `enabled`). Exposed for tests.
bool rule_matches(Kind kind, const Rule& rule, const rapidjson::Value& event,
                  const PushContext& ctx);
bool condition_matches(const Condition& c, const rapidjson::Value& event, const PushContext& ctx);

using haven::glob_match;  // homeserver/base/glob.h

// Splits a dot-separated property path ("content.m\.relates_to.rel_type").
std::vector<std::string> split_property_path(std::string_view path);
// The value at `path` in `event`, or nullptr.
const rapidjson::Value* property_at(const rapidjson::Value& event, std::string_view path);

}  // namespace haven::push
