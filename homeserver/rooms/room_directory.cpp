#include "homeserver/rooms/room_directory.h"

#include <algorithm>
#include <charconv>

#include "crypto/base64.h"
#include "homeserver/base/write.h"
#include "homeserver/rooms/ids.h"
#include "homeserver/rooms/room_details.h"

namespace haven::rooms {

namespace {

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Where a room sits in the listing: most joined members first, then by room id.
struct SortKey {
  int64_t members = 0;
  std::string room_id;
};

bool comes_before(const SortKey& a, const SortKey& b) {
  if (a.members != b.members) return a.members > b.members;
  return a.room_id < b.room_id;
}

// A pagination token: "n" (the rooms after `key`) or "p" (the rooms before it), then the key,
// base64url-encoded so clients treat it as opaque.
struct PageToken {
  bool forward = true;
  SortKey key;
};

std::string encode_token(bool forward, const SortKey& key) {
  return crypto::base64_encode_urlsafe(std::string(forward ? "n" : "p") +
                                       std::to_string(key.members) + ":" + key.room_id);
}

Result<PageToken> decode_token(std::string_view text) {
  auto bad = Error::invalid_param("'since' is not a pagination token of this server");
  if (text.empty() || text.size() > kMaxSinceTokenBytes) return bad;
  auto raw = crypto::base64_decode(text);
  if (!raw || raw->size() < 3 || ((*raw)[0] != 'n' && (*raw)[0] != 'p')) return bad;
  PageToken token;
  token.forward = (*raw)[0] == 'n';
  const char* begin = raw->data() + 1;
  const char* end = raw->data() + raw->size();
  auto [next, ec] = std::from_chars(begin, end, token.key.members);
  if (ec != std::errc() || next == begin || next == end || *next != ':' || token.key.members < 0) {
    return bad;
  }
  token.key.room_id.assign(next + 1, end);
  if (!is_valid_room_id(token.key.room_id)) return bad;
  return token;
}

bool matches_search(const RoomDetails& room, const std::string& term) {
  if (term.empty()) return true;
  for (const auto* field : {&room.name, &room.topic, &room.canonical_alias}) {
    if (*field && lowercase(**field).find(term) != std::string::npos) return true;
  }
  return false;
}

bool matches_type(const RoomDetails& room, const PublicRoomsQuery& query) {
  if (!query.room_types) return true;
  return std::find(query.room_types->begin(), query.room_types->end(), room.room_type) !=
         query.room_types->end();
}

// The published rooms this query lists, in listing order.
std::vector<RoomDetails> listed_rooms(storage::ReadTxn& txn, std::string_view server_name,
                                      const PublicRoomsQuery& query, bool for_federation) {
  std::vector<std::string> published;
  txn.scan(storage::Table::kPublishedRooms, {}, {}, storage::Direction::kForward,
           [&](std::string_view key, std::string_view) {
             published.emplace_back(key);
             return true;
           });
  std::vector<RoomDetails> out;
  // Haven bridges no third-party networks, so no room is published for one.
  if (query.third_party_instance_id && !query.include_all_networks) return out;
  for (const auto& room_id : published) {
    auto room = room_details(txn, room_id, server_name);
    if (!room || room->joined_local_members == 0) continue;
    if (for_federation && !room->federatable) continue;
    if (!matches_search(*room, query.search_term) || !matches_type(*room, query)) continue;
    out.push_back(std::move(*room));
  }
  std::sort(out.begin(), out.end(), [](const RoomDetails& a, const RoomDetails& b) {
    return comes_before({a.joined_members, a.room_id}, {b.joined_members, b.room_id});
  });
  return out;
}

SortKey key_of(const RoomDetails& room) { return {room.joined_members, room.room_id}; }

json::Value chunk_entry(const RoomDetails& room, json::Alloc& a) {
  json::Value e(rapidjson::kObjectType);
  json::set(e, "room_id", room.room_id, a);
  if (room.name) json::set(e, "name", *room.name, a);
  if (room.topic) json::set(e, "topic", *room.topic, a);
  if (room.canonical_alias) json::set(e, "canonical_alias", *room.canonical_alias, a);
  if (room.avatar) json::set(e, "avatar_url", *room.avatar, a);
  if (room.room_type) json::set(e, "room_type", *room.room_type, a);
  json::set(e, "num_joined_members", room.joined_members, a);
  json::set(e, "world_readable", room.history_visibility == "world_readable", a);
  json::set(e, "guest_can_join", room.guest_access.value_or("") == "can_join", a);
  json::set(e, "join_rule", room.join_rules, a);
  return e;
}

Result<std::optional<std::vector<std::optional<std::string>>>> parse_room_types(
    const json::Value& filter) {
  auto it = filter.FindMember("room_types");
  if (it == filter.MemberEnd() || it->value.IsNull()) {
    return std::optional<std::vector<std::optional<std::string>>>();
  }
  if (!it->value.IsArray()) return Error::bad_json("'room_types' must be an array");
  if (it->value.Size() > kMaxRoomTypesFilter) {
    return Error::invalid_param("'room_types' has too many entries");
  }
  std::vector<std::optional<std::string>> types;
  for (const auto& t : it->value.GetArray()) {
    if (t.IsNull()) {
      types.emplace_back();
    } else if (t.IsString()) {
      types.emplace_back(std::string(t.GetString(), t.GetStringLength()));
    } else {
      return Error::bad_json("'room_types' entries must be strings or null");
    }
  }
  return std::optional(std::move(types));
}

Status check_limit(int64_t limit) {
  if (limit < 0) return Error::invalid_param("'limit' must not be negative");
  return {};
}

// 0 (the federation API's "no limit") and values above the cap give the cap.
int64_t bounded_limit(int64_t limit) {
  return limit == 0 ? kMaxPublicRoomsLimit : std::min(limit, kMaxPublicRoomsLimit);
}

// Only bounded here: a token may be another server's (for ?server=), and list_public_rooms
// checks that it is one of ours.
Status check_since(const std::optional<std::string>& since) {
  if (since && (since->empty() || since->size() > kMaxSinceTokenBytes)) {
    return Error::invalid_param("'since' is not a pagination token");
  }
  return {};
}

}  // namespace

bool is_published(storage::ReadTxn& txn, std::string_view room_id) {
  return txn.get(storage::Table::kPublishedRooms, room_id).has_value();
}

Status set_published(storage::WriteTxn& txn, std::string_view room_id, bool published) {
  if (published) return check(txn.put(storage::Table::kPublishedRooms, room_id, ""));
  return check(txn.del(storage::Table::kPublishedRooms, room_id));
}

Result<PublicRoomsQuery> parse_public_rooms_body(const json::Value& body) {
  PublicRoomsQuery q;
  auto limit = json::optional_int(body, "limit");
  if (!limit.ok()) return std::move(limit).error();
  if (*limit) {
    HAVEN_TRY(check_limit(**limit));
    q.limit = bounded_limit(**limit);
  }
  auto since = json::optional_string(body, "since");
  if (!since.ok()) return std::move(since).error();
  q.since = std::move(*since);
  HAVEN_TRY(check_since(q.since));
  auto filter = json::optional_object(body, "filter");
  if (!filter.ok()) return std::move(filter).error();
  if (*filter) {
    auto term = json::optional_string(**filter, "generic_search_term");
    if (!term.ok()) return std::move(term).error();
    if (*term && (*term)->size() > kMaxSearchTermBytes) {
      return Error::invalid_param("'generic_search_term' is too long");
    }
    q.search_term = lowercase(term->value_or(""));
    auto types = parse_room_types(**filter);
    if (!types.ok()) return std::move(types).error();
    q.room_types = std::move(*types);
  }
  auto all = json::optional_bool(body, "include_all_networks");
  if (!all.ok()) return std::move(all).error();
  q.include_all_networks = all->value_or(false);
  auto instance = json::optional_string(body, "third_party_instance_id");
  if (!instance.ok()) return std::move(instance).error();
  q.third_party_instance_id = std::move(*instance);
  if (q.include_all_networks && q.third_party_instance_id) {
    return Error::invalid_param(
        "'third_party_instance_id' cannot be used with include_all_networks");
  }
  return q;
}

Result<PublicRoomsQuery> parse_public_rooms_params(
    const std::optional<std::string>& limit, const std::optional<std::string>& since,
    const std::optional<std::string>& include_all_networks,
    const std::optional<std::string>& third_party_instance_id) {
  PublicRoomsQuery q;
  if (limit) {
    int64_t n = 0;
    auto [end, ec] = std::from_chars(limit->data(), limit->data() + limit->size(), n);
    if (ec != std::errc() || end != limit->data() + limit->size()) {
      return Error::invalid_param("'limit' must be an integer");
    }
    HAVEN_TRY(check_limit(n));
    q.limit = bounded_limit(n);
  }
  q.since = since;
  HAVEN_TRY(check_since(q.since));
  if (include_all_networks) {
    if (*include_all_networks != "true" && *include_all_networks != "false") {
      return Error::invalid_param("'include_all_networks' must be true or false");
    }
    q.include_all_networks = *include_all_networks == "true";
  }
  q.third_party_instance_id = third_party_instance_id;
  if (q.include_all_networks && q.third_party_instance_id) {
    return Error::invalid_param(
        "'third_party_instance_id' cannot be used with include_all_networks");
  }
  return q;
}

json::Document public_rooms_body(const PublicRoomsQuery& query) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "limit", query.limit, a);
  if (query.since) json::set(d, "since", *query.since, a);
  json::Value filter(rapidjson::kObjectType);
  if (!query.search_term.empty()) json::set(filter, "generic_search_term", query.search_term, a);
  if (query.room_types) {
    json::Value types(rapidjson::kArrayType);
    for (const auto& t : *query.room_types) {
      types.PushBack(t ? json::str(*t, a) : json::Value(), a);
    }
    json::set(filter, "room_types", std::move(types), a);
  }
  json::set(d, "filter", std::move(filter), a);
  json::set(d, "include_all_networks", query.include_all_networks, a);
  if (query.third_party_instance_id) {
    json::set(d, "third_party_instance_id", *query.third_party_instance_id, a);
  }
  return d;
}

Result<json::Document> list_public_rooms(storage::ReadTxn& txn, std::string_view server_name,
                                         const PublicRoomsQuery& query, bool for_federation) {
  std::optional<PageToken> token;
  if (query.since) {
    auto decoded = decode_token(*query.since);
    if (!decoded.ok()) return std::move(decoded).error();
    token = std::move(*decoded);
  }
  std::vector<RoomDetails> rooms = listed_rooms(txn, server_name, query, for_federation);
  const auto limit = static_cast<size_t>(std::clamp<int64_t>(query.limit, 1, kMaxPublicRoomsLimit));
  size_t start = 0;
  size_t end = std::min(limit, rooms.size());
  if (token && token->forward) {
    auto it = std::find_if(rooms.begin(), rooms.end(), [&](const RoomDetails& r) {
      return comes_before(token->key, key_of(r));
    });
    start = static_cast<size_t>(it - rooms.begin());
    end = std::min(start + limit, rooms.size());
  } else if (token) {
    auto it = std::find_if(rooms.begin(), rooms.end(), [&](const RoomDetails& r) {
      return !comes_before(key_of(r), token->key);
    });
    end = static_cast<size_t>(it - rooms.begin());
    start = end > limit ? end - limit : 0;
  }
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value chunk(rapidjson::kArrayType);
  for (size_t i = start; i < end; ++i) chunk.PushBack(chunk_entry(rooms[i], a), a);
  json::set(d, "chunk", std::move(chunk), a);
  if (end < rooms.size() && end > start) {
    json::set(d, "next_batch", encode_token(true, key_of(rooms[end - 1])), a);
  }
  if (start > 0 && start < rooms.size()) {
    json::set(d, "prev_batch", encode_token(false, key_of(rooms[start])), a);
  }
  json::set(d, "total_room_count_estimate", static_cast<int64_t>(rooms.size()), a);
  return d;
}

}  // namespace haven::rooms
