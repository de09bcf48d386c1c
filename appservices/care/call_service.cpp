#include "appservices/care/call_service.h"

#include <spdlog/spdlog.h>

#include <map>

namespace haven::care {

namespace {

constexpr size_t kRoomsPerSweep = 1000;
constexpr size_t kMaxTimestampDigits = 15;  // ms since the epoch until the year 33658

Result<std::optional<int64_t>> parse_ms(const std::optional<std::string>& text, const char* name) {
  if (!text) return std::optional<int64_t>();
  bool digits = !text->empty() && text->size() <= kMaxTimestampDigits;
  for (char c : *text) digits = digits && c >= '0' && c <= '9';
  if (!digits) {
    return Error::invalid_param(std::string(name) +
                                " must be a timestamp in milliseconds since the epoch");
  }
  return std::optional<int64_t>(std::stoll(*text));
}

json::Value call_json(const EndedCall& e, json::Alloc& a) {
  json::Value c(rapidjson::kObjectType);
  json::set(c, "room_id", e.room_id, a);
  json::set(c, "call_id", e.call_id, a);
  json::set(c, "kind", kind_name(e.kind), a);
  json::set(c, "started_at", e.started_ms, a);
  json::set(c, "ended_at", e.ended_ms, a);
  json::set(c, "minutes", e.minutes, a);
  json::Value people(rapidjson::kArrayType);
  for (const auto& p : e.participants) people.PushBack(json::str(p, a), a);
  json::set(c, "participants", std::move(people), a);
  json::set(c, "owner", e.owner, a);
  json::set(c, "end_reason", e.end_reason, a);
  return c;
}

// The calls in progress that started in `range` (only `owner`'s when given).
json::Value ongoing_json(const CallStore& store, const CallRange& range,
                         const std::optional<std::string>& owner, json::Alloc& a) {
  json::Value list(rapidjson::kArrayType);
  for (const auto& c : store.all_live(kMaxListedCalls)) {
    if (c.ringing || (owner && c.owner != *owner)) continue;
    if (c.started_ms < range.from_ms || c.started_ms >= range.to_ms) continue;
    json::Value v(rapidjson::kObjectType);
    json::set(v, "room_id", c.room_id, a);
    json::set(v, "call_id", c.call_id, a);
    json::set(v, "kind", kind_name(c.kind), a);
    json::set(v, "started_at", c.started_ms, a);
    json::Value people(rapidjson::kArrayType);
    for (const auto& p : c.participants) people.PushBack(json::str(p, a), a);
    json::set(v, "participants", std::move(people), a);
    json::set(v, "owner", c.owner, a);
    list.PushBack(std::move(v), a);
  }
  return list;
}

// The calls of `range` (only `owner`'s when given) with their totals; per professional too
// when `per_owner`.
json::Document ledger_answer(const CallStore& store, const CallRange& range,
                             const std::optional<std::string>& owner, bool per_owner) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value list(rapidjson::kArrayType);
  int64_t calls = 0, minutes = 0;
  std::map<std::string, std::pair<int64_t, int64_t>> by_owner;
  store.scan_ledger(range.from_ms, range.to_ms, owner, [&](const EndedCall& e) {
    if (list.Size() < kMaxListedCalls) list.PushBack(call_json(e, a), a);
    ++calls;
    minutes += e.minutes;
    auto& t = by_owner[e.owner];
    ++t.first;
    t.second += e.minutes;
    return true;
  });
  json::set(d, "calls", std::move(list), a);
  json::set(d, "ongoing", ongoing_json(store, range, owner, a), a);
  json::set(d, "limited", calls > static_cast<int64_t>(kMaxListedCalls), a);
  json::set(d, "total_calls", calls, a);
  json::set(d, "total_minutes", minutes, a);
  if (per_owner) {
    json::Value pros(rapidjson::kArrayType);
    for (const auto& [user, t] : by_owner) {
      json::Value p(rapidjson::kObjectType);
      json::set(p, "user_id", user, a);
      json::set(p, "calls", t.first, a);
      json::set(p, "minutes", t.second, a);
      pros.PushBack(std::move(p), a);
    }
    json::set(d, "professionals", std::move(pros), a);
  }
  return d;
}

}  // namespace

Result<CallRange> parse_call_range(const std::optional<std::string>& from,
                                   const std::optional<std::string>& to) {
  auto f = parse_ms(from, "from");
  if (!f.ok()) return std::move(f).error();
  auto t = parse_ms(to, "to");
  if (!t.ok()) return std::move(t).error();
  CallRange r;
  if (*f) r.from_ms = **f;
  if (*t) r.to_ms = **t;
  if (r.from_ms > r.to_ms) return Error::invalid_param("from must not be after to");
  return r;
}

void CallService::on_event(const json::Value& event) {
  int64_t now = clock_.now_ms();
  auto rtc = parse_rtc_membership(event, now);
  auto voip = rtc ? std::nullopt : parse_voip(event, now);
  auto leave = rtc || voip ? std::nullopt : parse_room_leave(event, now);
  if (!rtc && !voip && !leave) return;
  std::string room_id = json::get_string(event, "room_id");
  auto room = rooms_.room(room_id);
  if (!room) return;  // only the temporary conversations haven-care manages
  RoomCalls calls{calls_.live_in_room(room_id), {}, false};
  if (rtc) {
    apply_membership(calls, *rtc, room->owner);
  } else if (voip) {
    apply_voip(calls, *voip, room->owner);
  } else {
    apply_leave(calls, *leave);
  }
  if (calls.changed) save(room_id, calls);
}

void CallService::sweep() {
  int64_t now = clock_.now_ms();
  for (const auto& room_id : calls_.rooms_with_live_calls(kRoomsPerSweep)) {
    RoomCalls calls{calls_.live_in_room(room_id), {}, false};
    apply_expiry(calls, now);
    if (calls.changed) save(room_id, calls);
  }
  temporary_.announce_pending();
}

void CallService::save(const std::string& room_id, RoomCalls& calls) {
  auto room = rooms_.room(room_id);  // gone once the conversation was deleted
  if (room) {
    bool was_in_call = room->in_call;
    room->in_call = calls.running();
    if (!room->in_call && (was_in_call || !calls.ended.empty())) {
      int64_t ended = calls.ended.empty() ? clock_.now_ms() : calls.last_ended_ms();
      room->deletes_ms = ended + kDeleteAfterCallMs;
    }
  }
  if (auto s = calls_.save(room_id, calls, room); !s.ok()) {
    spdlog::warn("calls of room {} not saved: {}", room_id, s.error().message);
    return;
  }
  for (const auto& e : calls.ended) {
    spdlog::info("{} call in room {} ended ({}): {} minutes", kind_name(e.kind), room_id,
                 e.end_reason, e.minutes);
  }
  if (room && !room->in_call) {
    if (auto s = temporary_.announce(room_id); !s.ok()) {
      spdlog::warn("temporary room {}: deletion time not announced: {}", room_id,
                   s.error().message);
    }
  }
}

Status CallService::require_professional(const std::string& user_token) {
  auto role = haven_.as_user_token(user_token, "GET", "/_matrix/client/unstable/org.haven/role");
  if (role.status == 0) return role.error();
  if (!role.ok() || json::get_string(role.body, "role") != "professional") {
    return Error::forbidden("Only professionals have call minutes");
  }
  return {};
}

Status CallService::require_server_admin(const std::string& user_id) {
  auto a =
      haven_.as_service("GET", "/_synapse/admin/v1/users/" + encode_segment(user_id) + "/admin");
  if (a.status == 0) return a.error();
  if (!a.ok() || !json::get_bool(a.body, "admin")) {
    return Error::forbidden("Only the server's administrators see the organisation's calls");
  }
  return {};
}

Result<json::Document> CallService::own_minutes(const std::string& user_token,
                                                const CallRange& range) {
  auto user = haven_.whoami(user_token);
  if (!user.ok()) return std::move(user).error();
  HAVEN_TRY(require_professional(user_token));
  return ledger_answer(calls_, range, *user, false);
}

Result<json::Document> CallService::organisation_minutes(const std::string& user_token,
                                                         const CallRange& range,
                                                         const std::optional<std::string>& owner) {
  auto user = haven_.whoami(user_token);
  if (!user.ok()) return std::move(user).error();
  HAVEN_TRY(require_server_admin(*user));
  return ledger_answer(calls_, range, owner, true);
}

}  // namespace haven::care
