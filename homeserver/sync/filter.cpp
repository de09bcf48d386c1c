#include "homeserver/sync/filter.h"

#include <algorithm>
#include <charconv>

#include "homeserver/base/json.h"
#include "homeserver/base/write.h"
#include "homeserver/rooms/ids.h"
#include "storage/keys.h"

namespace haven::sync {

namespace {

using json::Value;

Error at(std::string_view path, Error e) {
  e.message = std::string(path) + ": " + e.message;
  return e;
}

Error bad(std::string_view path, std::string message) {
  return at(path, Error::bad_json(std::move(message)));
}

bool contains(const std::vector<std::string>& list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

// A list of strings each passing `valid` (which names what it expects in `what`).
Result<StringList> string_list(const Value& obj, const char* key, std::string_view path,
                               bool (*valid)(std::string_view) = nullptr,
                               const char* what = nullptr) {
  auto list = json::optional_string_list(obj, key);
  if (!list.ok()) return at(path, std::move(list).error());
  if (valid && list->has_value()) {
    for (const auto& s : **list) {
      if (!valid(s)) {
        return bad(path, std::string("'") + key + "' must hold only " + what);
      }
    }
  }
  return std::move(list.value());
}

template <typename T>
Status take(Result<T> r, T* out, std::string_view path) {
  if (!r.ok()) return at(path, std::move(r).error());
  *out = std::move(r.value());
  return {};
}

Status take_bool(const Value& obj, const char* key, bool* out, std::string_view path) {
  auto r = json::optional_bool(obj, key);
  if (!r.ok()) return at(path, std::move(r).error());
  if (r->has_value()) *out = **r;
  return {};
}

Status parse_event_filter_into(const Value& v, EventFilter* f, std::string_view path) {
  if (!v.IsObject()) return bad(path, "must be an object");
  auto limit = json::optional_int(v, "limit");
  if (!limit.ok()) return at(path, std::move(limit).error());
  if (limit->has_value() && **limit < 0) {
    return bad(path, "'limit' must not be negative");
  }
  f->limit = *limit;
  HAVEN_TRY(take(string_list(v, "types", path), &f->types, path));
  HAVEN_TRY(take(string_list(v, "not_types", path), &f->not_types, path));
  HAVEN_TRY(take(string_list(v, "senders", path, rooms::is_valid_user_id, "user ids"), &f->senders,
                 path));
  HAVEN_TRY(take(string_list(v, "not_senders", path, rooms::is_valid_user_id, "user ids"),
                 &f->not_senders, path));
  return {};
}

Status parse_room_event_filter_into(const Value& v, RoomEventFilter* f, std::string_view path) {
  HAVEN_TRY(parse_event_filter_into(v, f, path));
  HAVEN_TRY(
      take(string_list(v, "rooms", path, rooms::is_valid_room_id, "room ids"), &f->rooms, path));
  HAVEN_TRY(take(string_list(v, "not_rooms", path, rooms::is_valid_room_id, "room ids"),
                 &f->not_rooms, path));
  HAVEN_TRY(take_bool(v, "lazy_load_members", &f->lazy_load_members, path));
  HAVEN_TRY(take_bool(v, "include_redundant_members", &f->include_redundant_members, path));
  HAVEN_TRY(take_bool(v, "unread_thread_notifications", &f->unread_thread_notifications, path));
  auto url = json::optional_bool(v, "contains_url");
  if (!url.ok()) return at(path, std::move(url).error());
  f->contains_url = *url;
  return {};
}

// Runs `parse` on the object at `key` when present (null counts as absent).
template <typename F>
Status nested(const Value& obj, const char* key, std::string_view path, F&& parse) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || it->value.IsNull()) return {};
  std::string child = path.empty() ? key : std::string(path) + "." + key;
  if (!it->value.IsObject()) return bad(child, "must be an object");
  return parse(it->value, child);
}

Status parse_room_filter_into(const Value& v, RoomFilter* f, std::string_view path) {
  HAVEN_TRY(
      take(string_list(v, "rooms", path, rooms::is_valid_room_id, "room ids"), &f->rooms, path));
  HAVEN_TRY(take(string_list(v, "not_rooms", path, rooms::is_valid_room_id, "room ids"),
                 &f->not_rooms, path));
  HAVEN_TRY(take_bool(v, "include_leave", &f->include_leave, path));
  for (auto [key, target] :
       {std::pair{"timeline", &f->timeline}, std::pair{"state", &f->state},
        std::pair{"ephemeral", &f->ephemeral}, std::pair{"account_data", &f->account_data}}) {
    HAVEN_TRY(nested(v, key, path, [target = target](const Value& child, std::string_view p) {
      return parse_room_event_filter_into(child, target, p);
    }));
  }
  return {};
}

bool any_type_matches(const std::vector<std::string>& patterns, std::string_view type) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& p) { return type_matches(p, type); });
}

template <typename F>
bool rooms_allow(const F& f, std::string_view room_id) {
  if (f.not_rooms && contains(*f.not_rooms, room_id)) return false;
  if (f.rooms && !contains(*f.rooms, room_id)) return false;
  return true;
}

std::string filter_key(std::string_view user_id, uint64_t id) {
  return storage::KeyBuilder().str(user_id).u64(id).take();
}

std::optional<uint64_t> parse_filter_id(std::string_view id) {
  uint64_t v = 0;
  if (id.empty() || id.size() > 20) return std::nullopt;
  auto [p, ec] = std::from_chars(id.data(), id.data() + id.size(), v);
  if (ec != std::errc() || p != id.data() + id.size()) return std::nullopt;
  return v;
}

}  // namespace

Result<Filter> parse_filter(const Value& v) {
  if (!v.IsObject()) return Error::bad_json("A filter must be a JSON object");
  Filter f;
  HAVEN_TRY(take(string_list(v, "event_fields", "filter"), &f.event_fields, "filter"));
  auto format = json::optional_string(v, "event_format");
  if (!format.ok()) return at("filter", std::move(format).error());
  if (format->has_value()) {
    if (**format != "client" && **format != "federation") {
      return bad("filter", "'event_format' must be 'client' or 'federation'");
    }
    f.event_format = **format;
  }
  HAVEN_TRY(nested(v, "presence", "", [&](const Value& c, std::string_view p) {
    return parse_event_filter_into(c, &f.presence, p);
  }));
  HAVEN_TRY(nested(v, "account_data", "", [&](const Value& c, std::string_view p) {
    return parse_event_filter_into(c, &f.account_data, p);
  }));
  HAVEN_TRY(nested(v, "room", "", [&](const Value& c, std::string_view p) {
    return parse_room_filter_into(c, &f.room, p);
  }));
  return f;
}

Result<RoomEventFilter> parse_room_event_filter(const Value& v) {
  RoomEventFilter f;
  HAVEN_TRY(parse_room_event_filter_into(v, &f, "filter"));
  return f;
}

Result<Filter> parse_filter_json(std::string_view text) {
  if (text.size() > kMaxFilterBytes) return Error::too_large("The filter is too large");
  auto doc = json::parse_object(text);
  if (!doc.ok()) return std::move(doc).error();
  return parse_filter(*doc);
}

Result<RoomEventFilter> parse_room_event_filter_json(std::string_view text) {
  if (text.size() > kMaxFilterBytes) return Error::too_large("The filter is too large");
  auto doc = json::parse_object(text);
  if (!doc.ok()) return std::move(doc).error();
  return parse_room_event_filter(*doc);
}

bool type_matches(std::string_view pattern, std::string_view type) {
  // Greedy glob with backtracking to the last '*': linear in practice, never exponential.
  size_t p = 0, t = 0;
  size_t star = std::string_view::npos, star_t = 0;
  while (t < type.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_t = t;
    } else if (p < pattern.size() && pattern[p] == type[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool matches(const EventFilter& f, std::string_view type, std::string_view sender) {
  if (f.not_types && any_type_matches(*f.not_types, type)) return false;
  if (f.types && !any_type_matches(*f.types, type)) return false;
  if (!sender.empty()) {
    if (f.not_senders && contains(*f.not_senders, sender)) return false;
    if (f.senders && !contains(*f.senders, sender)) return false;
  }
  return true;
}

bool matches(const RoomEventFilter& f, std::string_view room_id, std::string_view type,
             std::string_view sender, bool has_url) {
  if (!rooms_allow(f, room_id)) return false;
  if (f.contains_url && *f.contains_url != has_url) return false;
  return matches(static_cast<const EventFilter&>(f), type, sender);
}

bool room_allowed(const RoomFilter& f, std::string_view room_id) { return rooms_allow(f, room_id); }

bool room_allowed(const RoomEventFilter& f, std::string_view room_id) {
  return rooms_allow(f, room_id);
}

Result<std::string> store_filter(storage::WriteTxn& txn, std::string_view user_id,
                                 std::string_view filter_json) {
  uint64_t id = txn.next_counter("filters");
  HAVEN_TRY(check(txn.put(storage::Table::kFilters, filter_key(user_id, id), filter_json)));
  return std::to_string(id);
}

std::optional<std::string> load_filter(storage::ReadTxn& txn, std::string_view user_id,
                                       std::string_view filter_id) {
  auto id = parse_filter_id(filter_id);
  if (!id) return std::nullopt;
  auto stored = txn.get(storage::Table::kFilters, filter_key(user_id, *id));
  if (!stored) return std::nullopt;
  return std::string(*stored);
}

Result<Filter> resolve_filter(storage::ReadTxn& txn, const std::string& user_id,
                              std::string_view filter_param) {
  if (filter_param.empty()) return Filter{};
  if (filter_param.front() == '{') return parse_filter_json(filter_param);
  auto stored = load_filter(txn, user_id, filter_param);
  if (!stored) return Error::not_found("No such filter");
  return parse_filter_json(*stored);
}

}  // namespace haven::sync
