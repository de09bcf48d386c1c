// The typed request of simplified sliding sync (MSC4186): lists, room subscriptions, room
// configs with their required_state rules, and the extensions, parsed once from the body.
// Accepts both the MSC's current shapes and those deployed clients send (Synapse's experimental
// form: `ranges`, required_state as [type, state_key] pairs with "*", "$ME" and "$LAZY").
// Pure functions and values; any thread.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "homeserver/base/result.h"

namespace haven::sync {

constexpr size_t kMaxSlidingLists = 100;
constexpr size_t kMaxListKeyBytes = 64;
constexpr size_t kMaxRoomSubscriptions = 100;
constexpr size_t kMaxRequiredStateRules = 100;
constexpr size_t kMaxRangesPerList = 10;
constexpr int64_t kMaxSlidingTimelineLimit = 100;
constexpr size_t kMaxToDeviceLimit = 1000;

// One (type, state_key) rule: "*" matches anything; "$ME" as a state key is the user.
struct StateRule {
  std::string type;
  std::string state_key;
  bool operator==(const StateRule&) const = default;
  auto operator<=>(const StateRule&) const = default;
};

// What state to return for a room. A state event is returned when an include rule matches it
// and no exclude rule does. With lazy_members, "*" types do not match m.room.member: members
// come only by explicit rules and as the senders and targets of the timeline.
struct RequiredState {
  std::vector<StateRule> include;
  std::vector<StateRule> exclude;
  bool lazy_members = false;

  bool matches(std::string_view type, std::string_view state_key, std::string_view user_id) const;
  bool operator==(const RequiredState&) const = default;
  auto operator<=>(const RequiredState&) const = default;
};

// A room config: what to return for a room a list or subscription matches. Several configs of
// one room combine as the union of their required_state and the largest timeline_limit.
struct RoomConfig {
  int64_t timeline_limit = 0;
  std::vector<RequiredState> required_state;  // any of them; sorted, without duplicates

  bool matches(std::string_view type, std::string_view state_key, std::string_view user_id) const;
  bool lazy_members() const;
  void combine(const RoomConfig& other);
  bool operator==(const RoomConfig&) const = default;
};

// SlidingRoomFilter: absent fields do not filter. `room_types` entries are nullopt for rooms
// without a type.
struct ListFilters {
  std::optional<bool> is_dm, is_encrypted, is_invite;
  std::optional<std::vector<std::string>> spaces, tags, not_tags;
  std::optional<std::vector<std::optional<std::string>>> room_types, not_room_types;
};

struct ListConfig {
  RoomConfig room;
  // Inclusive index ranges into the filtered, sorted list; nullopt = the whole list.
  std::optional<std::vector<std::pair<uint64_t, uint64_t>>> ranges;
  ListFilters filters;
};

// An extension's settings: on or off, and (for account_data, receipts, typing) which lists and
// subscribed rooms it covers ("*" = all; nullopt = all).
struct ExtensionConfig {
  bool enabled = false;
  std::optional<std::vector<std::string>> lists, rooms;
  bool covers_list(std::string_view list) const;
  bool covers_room(std::string_view room_id) const;
};

struct ToDeviceConfig {
  bool enabled = false;
  size_t limit = 100;
  std::optional<uint64_t> since;
};

struct SlidingRequest {
  std::string conn_id;
  std::optional<std::string> pos;
  int64_t timeout_ms = 0;
  std::string set_presence = "online";
  std::map<std::string, ListConfig> lists;
  std::map<std::string, RoomConfig> room_subscriptions;
  std::vector<std::string> unsubscribe_rooms;
  ToDeviceConfig to_device;
  ExtensionConfig e2ee, account_data, receipts, typing;
};

// Parses the JSON body: M_BAD_JSON for wrong types, M_MISSING_PARAM for a list or subscription
// without timeline_limit or required_state, M_INVALID_PARAM for values out of bounds (more than
// 100 lists or subscriptions, a bad range, an unknown set_presence). `pos`, `timeout` and
// `set_presence` may also come in the body (the MSC's form); the caller lets the query win.
Result<SlidingRequest> parse_sliding_request(const rapidjson::Value& body);

// Validates `set_presence` (online, offline, unavailable).
bool valid_set_presence(std::string_view value);

}  // namespace haven::sync
