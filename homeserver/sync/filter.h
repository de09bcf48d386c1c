// Filters (spec "Filtering"): the typed form of a filter definition, its parsing and
// validation, the matching rules /sync and /messages apply, and the stored filters of
// POST /user/{userId}/filter. Pure functions except the storage calls, which take a
// transaction; any thread.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "homeserver/base/result.h"
#include "storage/store.h"

namespace haven::sync {

using StringList = std::optional<std::vector<std::string>>;  // nullopt = absent (no restriction)

struct EventFilter {
  std::optional<int64_t> limit;
  StringList types, not_types;  // '*' matches any sequence of characters
  StringList senders, not_senders;
};

struct RoomEventFilter : EventFilter {
  StringList rooms, not_rooms;
  bool lazy_load_members = false;
  bool include_redundant_members = false;
  bool unread_thread_notifications = false;
  std::optional<bool> contains_url;  // nullopt: the url key is not considered
};

struct RoomFilter {
  StringList rooms, not_rooms;  // applied before the filters below
  bool include_leave = false;
  RoomEventFilter timeline, state, ephemeral, account_data;
};

struct Filter {
  StringList event_fields;
  std::string event_format = "client";  // client or federation
  EventFilter presence, account_data;
  RoomFilter room;
};

// Largest filter definition accepted (bytes of JSON), so stored filters stay small.
constexpr size_t kMaxFilterBytes = 64 * 1024;

// Validates and converts a filter definition; M_BAD_JSON naming the offending field.
Result<Filter> parse_filter(const rapidjson::Value& v);
Result<RoomEventFilter> parse_room_event_filter(const rapidjson::Value& v);
// Parses JSON text (M_NOT_JSON when it is not JSON) and then as above.
Result<Filter> parse_filter_json(std::string_view text);
Result<RoomEventFilter> parse_room_event_filter_json(std::string_view text);

// Whether `pattern` (with '*' wildcards) matches the whole of `type`.
bool type_matches(std::string_view pattern, std::string_view type);
// Type and sender rules of an event filter: not_* win over the lists. An empty `sender`
// means unknown and passes the sender rules.
bool matches(const EventFilter& f, std::string_view type, std::string_view sender);
// All rules of a room event filter, for an event of `room_id` whose content has a "url" key
// when `has_url`.
bool matches(const RoomEventFilter& f, std::string_view room_id, std::string_view type,
             std::string_view sender, bool has_url);
// The room-level rules (rooms / not_rooms) of a room filter or room event filter.
bool room_allowed(const RoomFilter& f, std::string_view room_id);
bool room_allowed(const RoomEventFilter& f, std::string_view room_id);

// Stored filters. Ids are decimal numbers (never starting with '{', as the spec requires).
// Stores `filter_json` (already validated) for `user_id`; returns the new id.
Result<std::string> store_filter(storage::WriteTxn& txn, std::string_view user_id,
                                 std::string_view filter_json);
// The JSON text of a stored filter; nullopt for unknown or malformed ids.
std::optional<std::string> load_filter(storage::ReadTxn& txn, std::string_view user_id,
                                       std::string_view filter_id);
// The `filter` query parameter of /sync: a stored filter's id (404 M_NOT_FOUND when unknown)
// or an inline definition starting with '{' (M_NOT_JSON / M_BAD_JSON when bad).
Result<Filter> resolve_filter(storage::ReadTxn& txn, const std::string& user_id,
                              std::string_view filter_param);

}  // namespace haven::sync
