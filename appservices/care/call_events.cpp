#include "appservices/care/call_events.h"

#include <algorithm>

namespace haven::care {

namespace {

constexpr size_t kMaxIdBytes = 255;
constexpr size_t kMaxMembershipsPerEvent = 32;

const json::Value* object_member(const json::Value& v, const char* key) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsObject()) return nullptr;
  return &it->value;
}

bool is_string_member(const json::Value& v, const char* key) {
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsString();
}

int64_t event_ts(const json::Value& event, int64_t now_ms) {
  int64_t ts = json::get_int(event, "origin_server_ts", 0);
  return ts > 0 ? ts : now_ms;
}

bool is_call_member_type(const std::string& type) {
  return type == "m.call.member" || type == "org.matrix.msc3401.call.member";
}

// A positive duration from `field`, or the default; never above the cap.
int64_t lifetime_of(const json::Value& obj, const char* field, int64_t fallback, int64_t cap) {
  int64_t v = json::get_int(obj, field, 0);
  return std::min(v > 0 ? v : fallback, cap);
}

// When one membership (the MSC4143 content, or one entry of the array form) stops counting:
// `expires_ts` if given, else `expires` after its created_ts (or the event), capped.
int64_t membership_expiry(const json::Value& m, int64_t ts) {
  int64_t created = json::get_int(m, "created_ts", 0);
  if (created <= 0 || created > ts) created = ts;
  int64_t cap = created + kMaxMembershipLifetimeMs;
  int64_t absolute = json::get_int(m, "expires_ts", 0);
  if (absolute > 0) return std::min(absolute, cap);
  return created +
         lifetime_of(m, "expires", kDefaultMembershipLifetimeMs, kMaxMembershipLifetimeMs);
}

// A membership in a call (application m.call with a call_id), not yet expired at `ts`.
std::optional<RtcDevice> call_device(const json::Value& m, int64_t ts) {
  if (!m.IsObject() || json::get_string(m, "application") != "m.call") return std::nullopt;
  if (!is_string_member(m, "call_id")) return std::nullopt;
  RtcDevice d;
  d.call_id = json::get_string(m, "call_id");
  d.expires_ms = membership_expiry(m, ts);
  if (d.call_id.size() > kMaxIdBytes || d.expires_ms <= ts) return std::nullopt;
  return d;
}

}  // namespace

std::optional<RtcMembership> parse_rtc_membership(const json::Value& event, int64_t now_ms) {
  if (!event.IsObject() || !is_call_member_type(json::get_string(event, "type"))) {
    return std::nullopt;
  }
  const json::Value* content = object_member(event, "content");
  if (!content || !is_string_member(event, "state_key")) return std::nullopt;
  RtcMembership r;
  r.room_id = json::get_string(event, "room_id");
  r.state_key = json::get_string(event, "state_key");
  r.sender = json::get_string(event, "sender");
  r.ts = event_ts(event, now_ms);
  if (r.room_id.empty() || r.sender.empty() || r.state_key.size() > kMaxIdBytes) {
    return std::nullopt;
  }
  auto list = content->FindMember("memberships");
  if (list != content->MemberEnd() && list->value.IsArray()) {
    // The older form: state key = user id, one entry per device.
    size_t n = 0;
    for (const auto& m : list->value.GetArray()) {
      if (++n > kMaxMembershipsPerEvent) break;
      auto d = call_device(m, r.ts);
      std::string device = json::get_string(m, "device_id");
      if (!d || device.empty() || device.size() > kMaxIdBytes) continue;
      d->slot = r.state_key + "\x1f" + device;
      r.devices.push_back(std::move(*d));
    }
    return r;
  }
  // MSC4143: one device per state key; {} (or anything not a call) means it left.
  if (auto d = call_device(*content, r.ts)) {
    d->slot = r.state_key;
    r.devices.push_back(std::move(*d));
  }
  return r;
}

std::optional<VoipSignal> parse_voip(const json::Value& event, int64_t now_ms) {
  if (!event.IsObject()) return std::nullopt;
  std::string type = json::get_string(event, "type");
  VoipSignal s;
  if (type == "m.call.invite") {
    s.action = VoipAction::kInvite;
  } else if (type == "m.call.answer") {
    s.action = VoipAction::kAnswer;
  } else if (type == "m.call.hangup") {
    s.action = VoipAction::kHangup;
  } else if (type == "m.call.reject") {
    s.action = VoipAction::kReject;
  } else {
    return std::nullopt;
  }
  const json::Value* content = object_member(event, "content");
  if (!content || !is_string_member(*content, "call_id")) return std::nullopt;
  s.call_id = json::get_string(*content, "call_id");
  s.room_id = json::get_string(event, "room_id");
  s.sender = json::get_string(event, "sender");
  s.ts = event_ts(event, now_ms);
  if (s.call_id.empty() || s.call_id.size() > kMaxIdBytes || s.room_id.empty() ||
      s.sender.empty()) {
    return std::nullopt;
  }
  if (s.action == VoipAction::kInvite) {
    s.lifetime_ms =
        lifetime_of(*content, "lifetime", kDefaultInviteLifetimeMs, kMaxInviteLifetimeMs);
  }
  return s;
}

std::optional<RoomLeave> parse_room_leave(const json::Value& event, int64_t now_ms) {
  if (!event.IsObject() || json::get_string(event, "type") != "m.room.member") return std::nullopt;
  const json::Value* content = object_member(event, "content");
  if (!content) return std::nullopt;
  std::string membership = json::get_string(*content, "membership");
  if (membership != "leave" && membership != "ban") return std::nullopt;
  RoomLeave l;
  l.room_id = json::get_string(event, "room_id");
  l.user_id = json::get_string(event, "state_key");
  l.ts = event_ts(event, now_ms);
  if (l.room_id.empty() || l.user_id.empty()) return std::nullopt;
  return l;
}

int64_t call_minutes(int64_t started_ms, int64_t ended_ms) {
  constexpr int64_t kMinuteMs = 60 * 1000;
  int64_t duration = std::max<int64_t>(ended_ms - started_ms, 0);
  return std::max<int64_t>((duration + kMinuteMs - 1) / kMinuteMs, 1);
}

}  // namespace haven::care
