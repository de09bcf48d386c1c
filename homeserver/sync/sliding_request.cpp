#include "homeserver/sync/sliding_request.h"

#include <algorithm>
#include <charconv>

#include "homeserver/base/json.h"
#include "homeserver/rooms/ids.h"

namespace haven::sync {

namespace {

using json::Value;

constexpr size_t kMaxConnIdBytes = 255;
constexpr size_t kMaxPosBytes = 512;
constexpr const char* kWildcard = "*";

Error bad(const std::string& path, const std::string& message) {
  return Error::bad_json(path + ": " + message);
}

Error invalid(const std::string& path, const std::string& message) {
  return Error::invalid_param(path + ": " + message);
}

bool rule_matches(const StateRule& rule, std::string_view type, std::string_view state_key,
                  std::string_view user_id, bool lazy) {
  bool type_ok = rule.type == kWildcard ? !(lazy && type == "m.room.member") : rule.type == type;
  if (!type_ok) return false;
  if (rule.state_key == kWildcard) return true;
  if (rule.state_key == "$ME") return state_key == user_id;
  return rule.state_key == state_key;
}

// An element of the MSC's include/exclude lists: {"type"?, "state_key"?}, absent = any.
Result<StateRule> parse_rule_object(const Value& v, const std::string& path) {
  if (!v.IsObject()) return bad(path, "must be an object");
  auto type = json::optional_string(v, "type");
  if (!type.ok()) return bad(path, type.error().message);
  auto key = json::optional_string(v, "state_key");
  if (!key.ok()) return bad(path, key.error().message);
  return StateRule{type->value_or(kWildcard), key->value_or(kWildcard)};
}

Status parse_rule_list(const Value& obj, const char* key, std::vector<StateRule>* out,
                       const std::string& path) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd()) return {};
  std::string here = path + "." + key;
  if (!it->value.IsArray()) return bad(here, "must be an array");
  if (it->value.Size() > kMaxRequiredStateRules) return invalid(here, "too many rules");
  for (auto& e : it->value.GetArray()) {
    auto rule = parse_rule_object(e, here);
    if (!rule.ok()) return std::move(rule).error();
    out->push_back(std::move(rule.value()));
  }
  return {};
}

// [[type, state_key], ...] as deployed clients send it; ["m.room.member", "$LAZY"] turns on
// lazy members.
Result<RequiredState> parse_required_state_pairs(const Value& v, const std::string& path) {
  RequiredState rs;
  if (v.Size() > kMaxRequiredStateRules) return invalid(path, "too many rules");
  for (auto& pair : v.GetArray()) {
    if (!pair.IsArray() || pair.Size() != 2 || !pair[0].IsString() || !pair[1].IsString()) {
      return bad(path, "each entry must be a [type, state_key] pair of strings");
    }
    StateRule rule{pair[0].GetString(), pair[1].GetString()};
    if (rule.state_key == "$LAZY") {
      if (rule.type == "m.room.member") rs.lazy_members = true;
      continue;
    }
    rs.include.push_back(std::move(rule));
  }
  return rs;
}

Result<RequiredState> parse_required_state(const Value& v, const std::string& path) {
  if (v.IsArray()) return parse_required_state_pairs(v, path);
  if (!v.IsObject()) return bad(path, "must be an array of pairs or an object");
  RequiredState rs;
  HAVEN_TRY(parse_rule_list(v, "include", &rs.include, path));
  HAVEN_TRY(parse_rule_list(v, "exclude", &rs.exclude, path));
  auto lazy = json::optional_bool(v, "lazy_members");
  if (!lazy.ok()) return bad(path, lazy.error().message);
  rs.lazy_members = lazy->value_or(false);
  return rs;
}

Result<RoomConfig> parse_room_config(const Value& v, const std::string& path) {
  if (!v.IsObject()) return bad(path, "must be an object");
  auto limit_it = v.FindMember("timeline_limit");
  if (limit_it == v.MemberEnd()) {
    return Error::missing_param(path + ": 'timeline_limit' is required");
  }
  if (!limit_it->value.IsInt64()) return bad(path, "'timeline_limit' must be an integer");
  int64_t limit = limit_it->value.GetInt64();
  if (limit < 0) return invalid(path, "'timeline_limit' must not be negative");
  auto rs_it = v.FindMember("required_state");
  if (rs_it == v.MemberEnd()) {
    return Error::missing_param(path + ": 'required_state' is required");
  }
  auto rs = parse_required_state(rs_it->value, path + ".required_state");
  if (!rs.ok()) return std::move(rs).error();
  RoomConfig config;
  config.timeline_limit = std::min(limit, kMaxSlidingTimelineLimit);
  config.required_state.push_back(std::move(rs.value()));
  return config;
}

Result<std::pair<uint64_t, uint64_t>> parse_range(const Value& v, const std::string& path) {
  if (!v.IsArray() || v.Size() != 2 || !v[0].IsInt64() || !v[1].IsInt64()) {
    return bad(path, "a range must be [start, end] (integers)");
  }
  int64_t start = v[0].GetInt64(), end = v[1].GetInt64();
  if (start < 0 || end < start) {
    return invalid(path, "a range needs 0 <= start <= end");
  }
  return std::make_pair(static_cast<uint64_t>(start), static_cast<uint64_t>(end));
}

Result<std::optional<std::vector<std::optional<std::string>>>> parse_room_types(
    const Value& obj, const char* key, const std::string& path) {
  auto it = obj.FindMember(key);
  using Types = std::optional<std::vector<std::optional<std::string>>>;
  if (it == obj.MemberEnd() || it->value.IsNull()) return Types();
  if (!it->value.IsArray()) return bad(path, std::string("'") + key + "' must be an array");
  std::vector<std::optional<std::string>> out;
  for (auto& e : it->value.GetArray()) {
    if (e.IsNull()) {
      out.push_back(std::nullopt);
    } else if (e.IsString()) {
      out.push_back(std::string(e.GetString(), e.GetStringLength()));
    } else {
      return bad(path, std::string("'") + key + "' holds strings or null");
    }
  }
  return Types(std::move(out));
}

Status parse_string_list(const Value& obj, const char* key,
                         std::optional<std::vector<std::string>>* out, const std::string& path) {
  auto r = json::optional_string_list(obj, key);
  if (!r.ok()) return bad(path, r.error().message);
  *out = std::move(r.value());
  return {};
}

Status parse_optional_bool(const Value& obj, const char* key, std::optional<bool>* out,
                           const std::string& path) {
  auto r = json::optional_bool(obj, key);
  if (!r.ok()) return bad(path, r.error().message);
  if (r->has_value()) *out = **r;
  return {};
}

Result<ListFilters> parse_filters(const Value& v, const std::string& path) {
  if (!v.IsObject()) return bad(path, "must be an object");
  ListFilters f;
  HAVEN_TRY(parse_optional_bool(v, "is_dm", &f.is_dm, path));
  HAVEN_TRY(parse_optional_bool(v, "is_encrypted", &f.is_encrypted, path));
  HAVEN_TRY(parse_optional_bool(v, "is_invite", &f.is_invite, path));
  HAVEN_TRY(parse_optional_bool(v, "is_invited", &f.is_invite, path));
  HAVEN_TRY(parse_string_list(v, "spaces", &f.spaces, path));
  HAVEN_TRY(parse_string_list(v, "tags", &f.tags, path));
  HAVEN_TRY(parse_string_list(v, "not_tags", &f.not_tags, path));
  auto types = parse_room_types(v, "room_types", path);
  if (!types.ok()) return std::move(types).error();
  f.room_types = std::move(types.value());
  auto not_types = parse_room_types(v, "not_room_types", path);
  if (!not_types.ok()) return std::move(not_types).error();
  f.not_room_types = std::move(not_types.value());
  return f;
}

Result<ListConfig> parse_list(const Value& v, const std::string& path) {
  auto room = parse_room_config(v, path);
  if (!room.ok()) return std::move(room).error();
  ListConfig list;
  list.room = std::move(room.value());
  bool all_rooms = json::get_bool(v, "slow_get_all_rooms");
  if (auto ranges = v.FindMember("ranges"); ranges != v.MemberEnd() && !all_rooms) {
    if (!ranges->value.IsArray()) return bad(path, "'ranges' must be an array of ranges");
    if (ranges->value.Size() > kMaxRangesPerList) return invalid(path, "too many ranges");
    list.ranges.emplace();
    for (auto& r : ranges->value.GetArray()) {
      auto range = parse_range(r, path + ".ranges");
      if (!range.ok()) return std::move(range).error();
      list.ranges->push_back(range.value());
    }
  } else if (auto range = v.FindMember("range"); range != v.MemberEnd() && !all_rooms) {
    auto r = parse_range(range->value, path + ".range");
    if (!r.ok()) return std::move(r).error();
    list.ranges.emplace(1, r.value());
  }
  if (auto filters = v.FindMember("filters"); filters != v.MemberEnd()) {
    auto f = parse_filters(filters->value, path + ".filters");
    if (!f.ok()) return std::move(f).error();
    list.filters = std::move(f.value());
  }
  return list;
}

Status parse_lists(const Value& body, SlidingRequest* req) {
  auto it = body.FindMember("lists");
  if (it == body.MemberEnd() || it->value.IsNull()) return {};
  if (!it->value.IsObject()) return Error::bad_json("'lists' must be an object");
  if (it->value.MemberCount() > kMaxSlidingLists) {
    return Error::invalid_param("At most 100 lists");
  }
  for (auto& m : it->value.GetObject()) {
    std::string key(m.name.GetString(), m.name.GetStringLength());
    if (key.size() > kMaxListKeyBytes) {
      return Error::invalid_param("List keys are at most 64 bytes");
    }
    auto list = parse_list(m.value, "lists." + key);
    if (!list.ok()) return std::move(list).error();
    req->lists[key] = std::move(list.value());
  }
  return {};
}

Status parse_subscriptions(const Value& body, SlidingRequest* req) {
  if (auto it = body.FindMember("room_subscriptions");
      it != body.MemberEnd() && !it->value.IsNull()) {
    if (!it->value.IsObject()) return Error::bad_json("'room_subscriptions' must be an object");
    if (it->value.MemberCount() > kMaxRoomSubscriptions) {
      return Error::invalid_param("At most 100 room subscriptions");
    }
    for (auto& m : it->value.GetObject()) {
      std::string room_id(m.name.GetString(), m.name.GetStringLength());
      if (!rooms::is_valid_room_id(room_id)) {
        return Error::invalid_param("room_subscriptions: '" + room_id + "' is not a room id");
      }
      auto config = parse_room_config(m.value, "room_subscriptions." + room_id);
      if (!config.ok()) return std::move(config).error();
      req->room_subscriptions[room_id] = std::move(config.value());
    }
  }
  auto unsub = json::optional_string_list(body, "unsubscribe_rooms");
  if (!unsub.ok()) return Error::bad_json(unsub.error().message);
  if (unsub->has_value()) {
    if ((*unsub)->size() > kMaxRoomSubscriptions) {
      return Error::invalid_param("At most 100 rooms to unsubscribe from");
    }
    req->unsubscribe_rooms = std::move(**unsub);
  }
  return {};
}

Result<ExtensionConfig> parse_extension(const Value& v, const std::string& path) {
  if (!v.IsObject()) return bad(path, "must be an object");
  ExtensionConfig ext;
  std::optional<bool> enabled;
  HAVEN_TRY(parse_optional_bool(v, "enabled", &enabled, path));
  ext.enabled = enabled.value_or(false);
  HAVEN_TRY(parse_string_list(v, "lists", &ext.lists, path));
  HAVEN_TRY(parse_string_list(v, "rooms", &ext.rooms, path));
  return ext;
}

Result<ToDeviceConfig> parse_to_device(const Value& v) {
  const std::string path = "extensions.to_device";
  auto ext = parse_extension(v, path);
  if (!ext.ok()) return std::move(ext).error();
  ToDeviceConfig td;
  td.enabled = ext->enabled;
  auto limit = json::optional_int(v, "limit");
  if (!limit.ok()) return bad(path, limit.error().message);
  if (limit->has_value()) {
    if (**limit < 1) return invalid(path, "'limit' must be positive");
    td.limit = std::min<size_t>(static_cast<size_t>(**limit), kMaxToDeviceLimit);
  }
  auto since = json::optional_string(v, "since");
  if (!since.ok()) return bad(path, since.error().message);
  if (since->has_value()) {
    const std::string& s = **since;
    uint64_t n = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size()) {
      return invalid(path, "'since' must be a next_batch from an earlier response");
    }
    td.since = n;
  }
  return td;
}

Status parse_extensions(const Value& body, SlidingRequest* req) {
  auto it = body.FindMember("extensions");
  if (it == body.MemberEnd() || it->value.IsNull()) return {};
  if (!it->value.IsObject()) return Error::bad_json("'extensions' must be an object");
  const Value& ext = it->value;
  if (auto td = ext.FindMember("to_device"); td != ext.MemberEnd()) {
    auto r = parse_to_device(td->value);
    if (!r.ok()) return std::move(r).error();
    req->to_device = r.value();
  }
  std::pair<const char*, ExtensionConfig*> others[] = {{"e2ee", &req->e2ee},
                                                       {"account_data", &req->account_data},
                                                       {"receipts", &req->receipts},
                                                       {"typing", &req->typing}};
  for (auto& [name, out] : others) {
    auto m = ext.FindMember(name);
    if (m == ext.MemberEnd()) continue;
    auto r = parse_extension(m->value, std::string("extensions.") + name);
    if (!r.ok()) return std::move(r).error();
    *out = std::move(r.value());
  }
  return {};  // unknown extensions are ignored, as the MSC asks
}

Status parse_top_level(const Value& body, SlidingRequest* req) {
  auto conn_id = json::optional_string(body, "conn_id");
  if (!conn_id.ok()) return Error::bad_json(conn_id.error().message);
  req->conn_id = conn_id->value_or("");
  if (req->conn_id.size() > kMaxConnIdBytes) {
    return Error::invalid_param("'conn_id' is at most 255 bytes");
  }
  auto pos = json::optional_string(body, "pos");
  if (!pos.ok()) return Error::bad_json(pos.error().message);
  if (pos->has_value() && (*pos)->size() > kMaxPosBytes) {
    return Error::invalid_param("'pos' is too long");
  }
  req->pos = std::move(pos.value());
  auto timeout = json::optional_int(body, "timeout");
  if (!timeout.ok()) return Error::bad_json(timeout.error().message);
  if (timeout->value_or(0) < 0) return Error::invalid_param("'timeout' must not be negative");
  req->timeout_ms = timeout->value_or(0);
  auto presence = json::optional_string(body, "set_presence");
  if (!presence.ok()) return Error::bad_json(presence.error().message);
  if (presence->has_value()) {
    if (!valid_set_presence(**presence)) return Error::invalid_param("Invalid 'set_presence'");
    req->set_presence = **presence;
  }
  return {};
}

}  // namespace

bool RequiredState::matches(std::string_view type, std::string_view state_key,
                            std::string_view user_id) const {
  for (auto& rule : exclude) {
    if (rule_matches(rule, type, state_key, user_id, false)) return false;
  }
  for (auto& rule : include) {
    if (rule_matches(rule, type, state_key, user_id, lazy_members)) return true;
  }
  return false;
}

bool RoomConfig::matches(std::string_view type, std::string_view state_key,
                         std::string_view user_id) const {
  return std::any_of(required_state.begin(), required_state.end(),
                     [&](const RequiredState& rs) { return rs.matches(type, state_key, user_id); });
}

bool RoomConfig::lazy_members() const {
  return std::any_of(required_state.begin(), required_state.end(),
                     [](const RequiredState& rs) { return rs.lazy_members; });
}

void RoomConfig::combine(const RoomConfig& other) {
  timeline_limit = std::max(timeline_limit, other.timeline_limit);
  for (auto& rs : other.required_state) {
    auto at = std::lower_bound(required_state.begin(), required_state.end(), rs);
    if (at == required_state.end() || !(*at == rs)) required_state.insert(at, rs);
  }
}

bool ExtensionConfig::covers_list(std::string_view list) const {
  if (!lists) return true;
  return std::any_of(lists->begin(), lists->end(),
                     [&](const std::string& l) { return l == kWildcard || l == list; });
}

bool ExtensionConfig::covers_room(std::string_view room_id) const {
  if (!rooms) return true;
  return std::any_of(rooms->begin(), rooms->end(),
                     [&](const std::string& r) { return r == kWildcard || r == room_id; });
}

bool valid_set_presence(std::string_view value) {
  return value == "online" || value == "offline" || value == "unavailable";
}

Result<SlidingRequest> parse_sliding_request(const rapidjson::Value& body) {
  if (!body.IsObject()) return Error::bad_json("The body must be a JSON object");
  SlidingRequest req;
  HAVEN_TRY(parse_top_level(body, &req));
  HAVEN_TRY(parse_lists(body, &req));
  HAVEN_TRY(parse_subscriptions(body, &req));
  HAVEN_TRY(parse_extensions(body, &req));
  return req;
}

}  // namespace haven::sync
