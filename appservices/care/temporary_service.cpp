#include "appservices/care/temporary_service.h"

#include <spdlog/spdlog.h>

#include "crypto/random.h"

namespace haven::care {

namespace {

constexpr std::string_view kClientV3 = "/_matrix/client/v3";
constexpr size_t kMaxNameBytes = 255;
constexpr size_t kMaxInvitees = 50;
constexpr int64_t kLifetimeWithoutCallMs = 7LL * 24 * 3600 * 1000;  // R22
constexpr size_t kRoomsPerSweep = 20;
constexpr int kMaxPages = 1000;  // 100 events a page
// Redacting these would break the room before the purge (the service's power, the creator).
constexpr std::string_view kKeptTypes[] = {"m.room.create", "m.room.power_levels",
                                           "m.room.redaction", "m.room.encryption"};

std::string room_path(const std::string& room_id, const std::string& rest) {
  return std::string(kClientV3) + "/rooms/" + encode_segment(room_id) + rest;
}

bool kept(std::string_view type) {
  for (auto t : kKeptTypes) {
    if (t == type) return true;
  }
  return false;
}

bool already_redacted(const json::Value& event) {
  auto u = event.FindMember("unsigned");
  return u != event.MemberEnd() && u->value.IsObject() && u->value.HasMember("redacted_because");
}

// Every member (guests included) may join a call: its MatrixRTC membership is a state event,
// which would otherwise need state_default.
void allow_calls(json::Document& levels) {
  auto& a = levels.GetAllocator();
  auto events = levels.FindMember("events");
  if (events == levels.MemberEnd() || !events->value.IsObject()) {
    levels.RemoveMember("events");
    json::set(levels, "events", json::Value(rapidjson::kObjectType), a);
    events = levels.FindMember("events");
  }
  for (const char* type : {"m.call.member", "org.matrix.msc3401.call.member"}) {
    json::set(events->value, type, int64_t{0}, a);
  }
}

// The mxc URIs an event's content names as its attachment and thumbnail, plain (url) or
// encrypted (file.url); at most a handful.
std::vector<std::string> attachment_uris(const json::Value& event) {
  std::vector<std::string> uris;
  auto add = [&uris](const json::Value* v) {
    if (v && v->IsString() && v->GetStringLength() <= 512 &&
        std::string_view(v->GetString()).rfind("mxc://", 0) == 0) {
      uris.emplace_back(v->GetString(), v->GetStringLength());
    }
  };
  auto child = [](const json::Value* v, const char* key) {
    return v ? json::member(*v, key) : nullptr;
  };
  const json::Value* content = child(&event, "content");
  const json::Value* info = child(content, "info");
  add(child(content, "url"));
  add(child(child(content, "file"), "url"));
  add(child(info, "thumbnail_url"));
  add(child(child(info, "thumbnail_file"), "url"));
  return uris;
}

}  // namespace

Result<TemporaryRequest> parse_temporary_request(const json::Value& body) {
  TemporaryRequest req;
  auto name = json::optional_string(body, "name");
  if (!name.ok()) return std::move(name).error();
  req.name = name->value_or("");
  if (req.name.size() > kMaxNameBytes)
    return Error::invalid_param("name must be at most 255 bytes");
  auto invite = json::optional_string_list(body, "invite");
  if (!invite.ok()) return std::move(invite).error();
  req.invite = invite->value_or(std::vector<std::string>{});
  if (req.invite.size() > kMaxInvitees) {
    return Error::invalid_param("invite may name at most 50 users");
  }
  for (const auto& user : req.invite) {
    if (user.size() < 3 || user.size() > 255 || user[0] != '@' ||
        user.find(':') == std::string::npos) {
      return Error::invalid_param("invite must hold Matrix user ids");
    }
  }
  return req;
}

std::string TemporaryService::service_user() const {
  return "@" + config_.sender_localpart + ":" + config_.server_name;
}

Status TemporaryService::require_temporary_rooms_on() {
  auto a = haven_.as_service("GET", "/_haven/admin/v1/features");
  if (!a.ok()) return a.error();
  if (!json::get_bool(a.body, "temporary_rooms")) {
    return Error::forbidden("Temporary conversations are switched off by the operator");
  }
  return {};
}

// haven-care's user joins (the owner invited it in createRoom) and gets the room's redact
// level from the owner, the least it needs to redact everyone's events; calls are opened to
// every member.
Status TemporaryService::let_service_in(const std::string& user_token, const std::string& room_id) {
  auto join = haven_.as_service("POST", room_path(room_id, "/join"), "{}");
  if (!join.ok()) return join.error();
  auto levels =
      haven_.as_user_token(user_token, "GET", room_path(room_id, "/state/m.room.power_levels/"));
  if (!levels.ok()) return levels.error();
  auto& content = levels.body;
  int64_t redact = json::get_int(content, "redact", 50);
  auto users = content.FindMember("users");
  if (users == content.MemberEnd() || !users->value.IsObject()) {
    return Error::unknown("The conversation has no power levels for users");
  }
  users->value.RemoveMember(service_user().c_str());
  json::set(users->value, service_user(), redact, content.GetAllocator());
  allow_calls(content);
  auto put =
      haven_.as_user_token(user_token, "PUT", room_path(room_id, "/state/m.room.power_levels/"),
                           json::to_string(content));
  if (!put.ok()) return put.error();
  return {};
}

// R19, R20, R21: haven's care rules refuse the room to anyone but a professional and the
// invites of clients; the answer is theirs.
Result<CreatedTemporaryRoom> TemporaryService::create(const std::string& user_token,
                                                      const TemporaryRequest& req) {
  auto user = haven_.whoami(user_token);
  if (!user.ok()) return std::move(user).error();
  HAVEN_TRY(require_temporary_rooms_on());
  int64_t created = clock_.now_ms();
  int64_t deletes_at = created + kLifetimeWithoutCallMs;
  auto body = json::object();
  auto& a = body.GetAllocator();
  if (!req.name.empty()) json::set(body, "name", req.name, a);
  json::set(body, "preset", "private_chat", a);
  json::Value invite(rapidjson::kArrayType);
  for (const auto& u : req.invite) invite.PushBack(json::str(u, a), a);
  invite.PushBack(json::str(service_user(), a), a);
  json::set(body, "invite", std::move(invite), a);
  json::Value creation(rapidjson::kObjectType);
  json::set(creation, kTemporaryStateType, true, a);
  json::set(body, "creation_content", std::move(creation), a);
  json::Value notice(rapidjson::kObjectType);
  json::set(notice, "type", kTemporaryStateType, a);
  json::set(notice, "state_key", "", a);
  json::Value content(rapidjson::kObjectType);
  json::set(content, "deletes_at", deletes_at, a);
  json::set(notice, "content", std::move(content), a);
  json::Value initial_state(rapidjson::kArrayType);
  initial_state.PushBack(std::move(notice), a);
  json::set(body, "initial_state", std::move(initial_state), a);
  auto made = haven_.as_user_token(user_token, "POST", std::string(kClientV3) + "/createRoom",
                                   json::to_string(body));
  if (!made.ok()) return made.error();
  std::string room_id = json::get_string(made.body, "room_id");
  // Recorded before anything else can fail, so a half-made room is still deleted when due.
  HAVEN_TRY(store_.put(TemporaryRoom{room_id, *user, created, deletes_at, false, deletes_at}));
  HAVEN_TRY(let_service_in(user_token, room_id));
  return CreatedTemporaryRoom{room_id, deletes_at};
}

size_t TemporaryService::redact_all(const std::string& room_id) {
  size_t failed = 0;
  std::string from;
  for (int page = 0; page < kMaxPages; ++page) {
    std::string path = room_path(room_id, "/messages?dir=b&limit=100");
    if (!from.empty()) path += "&from=" + encode_segment(from);
    auto a = haven_.as_service("GET", path);
    if (!a.ok()) return failed + 1;
    auto chunk = a.body.FindMember("chunk");
    if (chunk == a.body.MemberEnd() || !chunk->value.IsArray() || chunk->value.Empty()) break;
    for (const auto& e : chunk->value.GetArray()) {
      if (!e.IsObject() || kept(json::get_string(e, "type")) || already_redacted(e)) continue;
      std::string event_id = json::get_string(e, "event_id");
      auto r = haven_.as_service("PUT",
                                 room_path(room_id, "/redact/" + encode_segment(event_id) + "/" +
                                                        crypto::random_token(16)),
                                 "{}");
      if (!r.ok()) ++failed;
    }
    std::string end = json::get_string(a.body, "end");
    if (end.empty() || end == from) break;
    from = end;
  }
  return failed;
}

Status TemporaryService::purge(const std::string& room_id) {
  auto a = haven_.as_service("DELETE", "/_synapse/admin/v1/rooms/" + encode_segment(room_id),
                             R"({"purge":true,"block":false})");
  if (a.status == 404) return {};  // already gone
  if (!a.ok()) return a.error();
  return {};
}

// R21: the state event tells every member's client the new time. A failed announcement is
// tried again next sweep (the record remembers what was last announced).
Status TemporaryService::announce(const std::string& room_id) {
  auto room = store_.room(room_id);
  if (!room || room->in_call || room->announced_ms == room->deletes_ms) return {};
  auto content = json::object();
  json::set(content, "deletes_at", room->deletes_ms, content.GetAllocator());
  auto put = haven_.as_service(
      "PUT", room_path(room_id, "/state/" + std::string(kTemporaryStateType) + "/"),
      json::to_string(content));
  if (!put.ok()) return put.error();
  room->announced_ms = room->deletes_ms;
  return store_.put(*room);
}

void TemporaryService::announce_pending() {
  for (const auto& room : store_.unannounced(kRoomsPerSweep)) {
    if (auto s = announce(room.room_id); !s.ok()) {
      spdlog::warn("temporary room {}: deletion time not announced: {}", room.room_id,
                   s.error().message);
    }
  }
}

// R22: redaction first (every server and client that saw the events is told to drop them),
// then the purge removes what is left from haven. A failed purge is tried again next sweep.
std::vector<std::string> TemporaryService::delete_due() {
  std::vector<std::string> deleted;
  for (const auto& room : store_.due(clock_.now_ms(), kRoomsPerSweep)) {
    size_t failed = redact_all(room.room_id);
    if (failed)
      spdlog::warn("temporary room {}: {} events could not be redacted", room.room_id, failed);
    if (auto s = purge(room.room_id); !s.ok()) {
      spdlog::warn("temporary room {}: purge failed: {}", room.room_id, s.error().message);
      continue;
    }
    if (auto s = store_.remove(room.room_id); !s.ok()) {
      spdlog::warn("temporary room {}: record not removed", room.room_id);
      continue;
    }
    spdlog::info("temporary room {} deleted", room.room_id);
    deleted.push_back(room.room_id);
  }
  return deleted;
}

void TemporaryService::tie_media(const json::Value& event) {
  std::vector<std::string> uris = attachment_uris(event);
  const std::string room_id = json::get_string(event, "room_id");
  if (uris.empty() || !manages(room_id)) return;
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "user_id", json::get_string(event, "sender"), a);
  json::Value media(rapidjson::kArrayType);
  for (const std::string& uri : uris) media.PushBack(json::str(uri, a), a);
  json::set(d, "media", std::move(media), a);
  auto r = haven_.as_service("POST", "/_haven/admin/v1/rooms/" + encode_segment(room_id) + "/media",
                             json::to_string(d));
  if (!r.ok()) {
    spdlog::warn("temporary room {}: attachments not tied to it: {}", room_id,
                 r.error().message);
  }
}

}  // namespace haven::care
