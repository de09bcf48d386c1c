// The published room directory (the spec's "Published room directory"): which rooms this
// server lists, and the paginated, filtered listing that GET/POST /publicRooms answer on the
// client API and over federation. Reads through a ReadTxn (any thread); writes inside a
// storage job (writer thread); parsing is pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "homeserver/base/json.h"
#include "homeserver/base/result.h"
#include "storage/store.h"

namespace haven::rooms {

inline constexpr int64_t kMaxPublicRoomsLimit = 500;  // rooms in one page at most
inline constexpr size_t kMaxSearchTermBytes = 256;    // filter.generic_search_term
inline constexpr size_t kMaxRoomTypesFilter = 32;     // entries of filter.room_types
inline constexpr size_t kMaxSinceTokenBytes = 1024;

bool is_published(storage::ReadTxn& txn, std::string_view room_id);
Status set_published(storage::WriteTxn& txn, std::string_view room_id, bool published);

// One query of the listing, as the client or another server asked it.
struct PublicRoomsQuery {
  int64_t limit = kMaxPublicRoomsLimit;  // 1..kMaxPublicRoomsLimit
  std::optional<std::string> since;      // a next_batch or prev_batch of an earlier page
  std::string search_term;               // lowercased; empty: every room
  // Room types wanted (nullopt inside: rooms without a type); nullopt: any type.
  std::optional<std::vector<std::optional<std::string>>> room_types;
  bool include_all_networks = false;
  std::optional<std::string> third_party_instance_id;
};

// From a POST body: M_BAD_JSON for wrong types, M_INVALID_PARAM for values out of bounds.
// `since` is only bounded: it may be another server's token.
Result<PublicRoomsQuery> parse_public_rooms_body(const json::Value& body);
// From GET's query parameters (limit, since, include_all_networks, third_party_instance_id),
// each absent as nullopt: M_INVALID_PARAM for bad values.
Result<PublicRoomsQuery> parse_public_rooms_params(
    const std::optional<std::string>& limit, const std::optional<std::string>& since,
    const std::optional<std::string>& include_all_networks,
    const std::optional<std::string>& third_party_instance_id);
// The query as a POST body (for asking another server).
json::Document public_rooms_body(const PublicRoomsQuery& query);

// One page of the listing, as the spec's public_rooms_response JSON. Rooms are ordered by
// joined members (most first), then room id; the tokens name the edge rooms of the page, so
// paging is stable while rooms come and go. A room is listed while it is published and a
// local user is still joined to it. `for_federation`: rooms with "m.federate": false are left
// out. M_INVALID_PARAM for a `since` that is no token of ours.
Result<json::Document> list_public_rooms(storage::ReadTxn& txn, std::string_view server_name,
                                         const PublicRoomsQuery& query, bool for_federation);

}  // namespace haven::rooms
