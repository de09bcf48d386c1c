#include "homeserver/rooms/redaction.h"

#include <algorithm>
#include <initializer_list>
#include <span>
#include <string_view>

namespace haven::rooms {

namespace {

using Keys = std::span<const std::string_view>;
using Alloc = rapidjson::Document::AllocatorType;

constexpr std::string_view kTopLevelV11[] = {
    "event_id", "type",       "room_id", "sender",      "state_key",   "content",
    "hashes",   "signatures", "depth",   "prev_events", "auth_events", "origin_server_ts"};
constexpr std::string_view kTopLevelV9Extra[] = {"prev_state", "origin", "membership"};

std::string_view view(const rapidjson::Value& s) { return {s.GetString(), s.GetStringLength()}; }

void copy_keys(const rapidjson::Value& from, Keys keys, rapidjson::Value& to, Alloc& a) {
  for (auto& m : from.GetObject()) {
    if (std::find(keys.begin(), keys.end(), view(m.name)) != keys.end()) {
      to.AddMember(rapidjson::Value(m.name, a), rapidjson::Value(m.value, a), a);
    }
  }
}

void copy_keys(const rapidjson::Value& from, std::initializer_list<std::string_view> keys,
               rapidjson::Value& to, Alloc& a) {
  copy_keys(from, Keys(keys.begin(), keys.size()), to, a);
}

// v11: of third_party_invite, only `signed` survives (the object itself is kept).
void keep_third_party_invite_signed(const rapidjson::Value& content, rapidjson::Value& out,
                                    Alloc& a) {
  auto it = content.FindMember("third_party_invite");
  if (it == content.MemberEnd() || !it->value.IsObject()) return;
  rapidjson::Value tpi(rapidjson::kObjectType);
  copy_keys(it->value, {"signed"}, tpi, a);
  out.AddMember("third_party_invite", tpi, a);
}

void redact_content(std::string_view type, const rapidjson::Value& content, bool v11,
                    rapidjson::Value& out, Alloc& a) {
  if (type == "m.room.member") {
    copy_keys(content, {"membership", "join_authorised_via_users_server"}, out, a);
    if (v11) keep_third_party_invite_signed(content, out, a);
  } else if (type == "m.room.create") {
    if (v11) {
      out.CopyFrom(content, a);
    } else {
      copy_keys(content, {"creator"}, out, a);
    }
  } else if (type == "m.room.join_rules") {
    copy_keys(content, {"join_rule", "allow"}, out, a);
  } else if (type == "m.room.power_levels") {
    copy_keys(content,
              {"ban", "events", "events_default", "kick", "redact", "state_default", "users",
               "users_default"},
              out, a);
    if (v11) copy_keys(content, {"invite"}, out, a);
  } else if (type == "m.room.history_visibility") {
    copy_keys(content, {"history_visibility"}, out, a);
  } else if (type == "m.room.redaction" && v11) {
    copy_keys(content, {"redacts"}, out, a);
  }
}

}  // namespace

rapidjson::Document redact(const rapidjson::Value& event, const RoomVersion& version) {
  rapidjson::Document out(rapidjson::kObjectType);
  if (!event.IsObject()) return out;
  Alloc& a = out.GetAllocator();
  const bool v11 = version.redaction == RedactionRules::kV11;
  copy_keys(event, kTopLevelV11, out, a);
  if (!v11) copy_keys(event, kTopLevelV9Extra, out, a);

  auto content = out.FindMember("content");
  if (content == out.MemberEnd()) return out;
  rapidjson::Value redacted(rapidjson::kObjectType);
  auto type = event.FindMember("type");
  if (content->value.IsObject() && type != event.MemberEnd() && type->value.IsString()) {
    redact_content(view(type->value), content->value, v11, redacted, a);
  }
  content->value = redacted;
  return out;
}

}  // namespace haven::rooms
