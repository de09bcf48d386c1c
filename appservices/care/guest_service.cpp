#include "appservices/care/guest_service.h"

#include <map>

#include "crypto/random.h"

namespace haven::care {

namespace {

constexpr size_t kMaxNameBytes = 64;
constexpr size_t kMaxPendingPerRoom = 20;
constexpr std::string_view kClientV3 = "/_matrix/client/v3";

std::string room_path(const std::string& room_id, const std::string& rest) {
  return std::string(kClientV3) + "/rooms/" + encode_segment(room_id) + rest;
}

std::string body_of(std::initializer_list<std::pair<const char*, std::string>> fields) {
  auto d = json::object();
  for (const auto& [k, v] : fields) json::set(d, k, v, d.GetAllocator());
  return json::to_string(d);
}

// A typed name: 1 to 64 bytes, no control characters, not only spaces.
Status check_name(const std::string& name) {
  if (name.empty() || name.size() > kMaxNameBytes) {
    return Error::invalid_param("name must be 1 to 64 bytes");
  }
  bool visible = false;
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return Error::invalid_param("name must not hold control characters");
    if (c != ' ') visible = true;
  }
  if (!visible) return Error::invalid_param("name must not be blank");
  return {};
}

bool same_token(const std::string& given, const std::string& stored_hash) {
  return !given.empty() && given.size() <= 256 && hash_token(given) == stored_hash;
}

}  // namespace

std::string GuestService::link_url(const std::string& token) const {
  return config_.public_url + "/_haven/care/v1/guest_links/" + token;
}

Status GuestService::require_guest_links_on() {
  auto a = haven_.as_service("GET", "/_haven/admin/v1/features");
  if (!a.ok()) return a.error();
  if (!json::get_bool(a.body, "guest_links")) {
    return Error::forbidden("Guest links are switched off by the operator");
  }
  return {};
}

Result<std::string> GuestService::owner_of(const std::string& room_id) {
  auto a = haven_.as_service("GET", "/_haven/admin/v1/rooms/" + encode_segment(room_id) + "/owner");
  if (a.status == 404 || a.status == 400) return Error::not_found("Unknown conversation");
  if (!a.ok()) return a.error();
  return json::get_string(a.body, "user_id");
}

// POST /_haven/care/v1/rooms/{roomId}/guest_links (R13, R14, R15)
Result<CreatedLink> GuestService::create_link(const std::string& user_token,
                                              const std::string& room_id) {
  auto user = haven_.whoami(user_token);
  if (!user.ok()) return std::move(user).error();
  HAVEN_TRY(require_guest_links_on());
  auto owner = owner_of(room_id);
  if (!owner.ok() || *owner != *user) {
    return Error::forbidden("Only the owner of the conversation can create guest links");
  }
  auto role = haven_.as_user_token(user_token, "GET", "/_matrix/client/unstable/org.haven/role");
  if (!role.ok()) return role.error();
  if (json::get_string(role.body, "role") != "professional") {
    return Error::forbidden("Only a professional can create guest links");
  }
  // Guests ask by knocking; haven's care rules let only this room's guests knock.
  auto rules = haven_.as_user_token(user_token, "GET",
                                    room_path(room_id, "/state/m.room.join_rules/"));
  if (json::get_string(rules.body, "join_rule") != "knock") {
    auto put = haven_.as_user_token(user_token, "PUT",
                                    room_path(room_id, "/state/m.room.join_rules/"),
                                    body_of({{"join_rule", "knock"}}));
    if (!put.ok()) return put.error();
  }
  std::string token = crypto::random_token(32);
  GuestLink link{hash_token(token), room_id, *user, clock_.now_ms(),
                 clock_.now_ms() + config_.guest_link_lifetime_ms, false};
  HAVEN_TRY(store_.put_link(link));
  return CreatedLink{link_url(token), token, link.expires_ms};
}

// DELETE /_haven/care/v1/rooms/{roomId}/guest_links/{token}
Status GuestService::revoke_link(const std::string& user_token, const std::string& room_id,
                                 const std::string& link_token) {
  auto user = haven_.whoami(user_token);
  if (!user.ok()) return std::move(user).error();
  auto link = store_.link(hash_token(link_token));
  if (!link || link->room_id != room_id) return Error::not_found("Unknown guest link");
  auto owner = owner_of(room_id);
  if (!owner.ok() || *owner != *user) {
    return Error::forbidden("Only the owner of the conversation can revoke its guest links");
  }
  link->revoked = true;
  return store_.put_link(*link);
}

Result<GuestLink> GuestService::usable_link(const std::string& link_token) {
  if (link_token.empty() || link_token.size() > 256) return Error::not_found("Unknown guest link");
  auto link = store_.link(hash_token(link_token));
  if (!link || link->revoked) return Error::not_found("This guest link does not exist or was revoked");
  if (clock_.now_ms() >= link->expires_ms) return Error::forbidden("This guest link has expired");
  HAVEN_TRY(require_guest_links_on());
  return *link;
}

// POST /_haven/care/v1/guest_links/{token}/requests {"name"} (R15): a guest user of our
// namespace, bound to the room, knocks with the name as reason.
Result<CreatedRequest> GuestService::ask_access(const std::string& link_token,
                                                const std::string& name) {
  HAVEN_TRY(check_name(name));
  auto link = usable_link(link_token);
  if (!link.ok()) return std::move(link).error();
  if (store_.pending_in_room(link->room_id) >= kMaxPendingPerRoom) {
    return Error::with(429, "M_LIMIT_EXCEEDED", "Too many guests are waiting for an answer");
  }
  std::string localpart = config_.guest_prefix + crypto::random_token(12);
  for (char& c : localpart) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  auto reg = haven_.as_service(
      "POST", std::string(kClientV3) + "/register",
      R"({"type":"m.login.application_service","inhibit_login":true,"username":")" + localpart +
          "\"}");
  if (!reg.ok()) return reg.error();
  std::string guest = json::get_string(reg.body, "user_id");
  auto bind = haven_.as_service("PUT", "/_haven/admin/v1/users/" + encode_segment(guest) + "/guest",
                                body_of({{"room_id", link->room_id}}));
  if (!bind.ok()) return bind.error();
  GuestRequest r;
  r.id = crypto::random_token(16);
  r.room_id = link->room_id;
  r.link_hash = link->token_hash;
  r.guest_user_id = guest;
  r.name = name;
  std::string poll_token = crypto::random_token(32);
  r.poll_hash = hash_token(poll_token);
  r.created_ms = clock_.now_ms();
  HAVEN_TRY(store_.put_request(r));
  auto knock = haven_.as_service("POST", std::string(kClientV3) + "/knock/" + encode_segment(r.room_id),
                                 body_of({{"reason", name}}), guest);
  if (!knock.ok()) {
    r.status = RequestStatus::kRejected;
    (void)store_.put_request(r);
    return knock.error();
  }
  return CreatedRequest{r.id, poll_token};
}

// GET /_haven/care/v1/guest_requests/{id}?poll_token=
Result<json::Document> GuestService::poll(const std::string& request_id,
                                          const std::string& poll_token) {
  auto r = store_.request(request_id);
  if (!r || !same_token(poll_token, r->poll_hash)) return Error::not_found("Unknown request");
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "status", status_name(r->status), a);
  if (r->status == RequestStatus::kAccepted && !r->access_token.empty()) {
    json::set(d, "user_id", r->guest_user_id, a);
    json::set(d, "access_token", r->access_token, a);
    json::set(d, "device_id", r->device_id, a);
    json::set(d, "room_id", r->room_id, a);
    json::set(d, "homeserver_url", config_.guest_homeserver_url, a);
    r->access_token.clear();  // handed out once
    HAVEN_TRY(store_.put_request(*r));
  }
  return d;
}

// GET /_haven/care/v1/tasks: the pending requests in the caller's conversations (R16).
Result<json::Document> GuestService::tasks(const std::string& user_token) {
  auto user = haven_.whoami(user_token);
  if (!user.ok()) return std::move(user).error();
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value list(rapidjson::kArrayType);
  std::map<std::string, bool> owns;
  for (const auto& r : store_.requests_with(RequestStatus::kPending)) {
    if (!owns.count(r.room_id)) {
      auto owner = owner_of(r.room_id);
      owns[r.room_id] = owner.ok() && *owner == *user;
    }
    if (!owns[r.room_id]) continue;
    json::Value t(rapidjson::kObjectType);
    json::set(t, "type", "guest_request", a);
    json::set(t, "request_id", r.id, a);
    json::set(t, "room_id", r.room_id, a);
    json::set(t, "name", r.name, a);
    json::set(t, "user_id", r.guest_user_id, a);
    json::set(t, "created_at", r.created_ms, a);
    list.PushBack(std::move(t), a);
  }
  json::set(d, "tasks", std::move(list), a);
  return d;
}

Result<GuestRequest> GuestService::owned_pending_request(const std::string& user_token,
                                                         const std::string& request_id) {
  auto user = haven_.whoami(user_token);
  if (!user.ok()) return std::move(user).error();
  auto r = store_.request(request_id);
  if (!r) return Error::not_found("Unknown request");
  auto owner = owner_of(r->room_id);
  if (!owner.ok() || *owner != *user) {
    return Error::forbidden("Only the owner of the conversation can answer this request");
  }
  if (r->status != RequestStatus::kPending) {
    return Error::with(409, "M_FORBIDDEN", "This request was already answered");
  }
  return *r;
}

// POST /_haven/care/v1/guest_requests/{id}/accept: the owner invites the knocking guest.
Status GuestService::accept(const std::string& user_token, const std::string& request_id) {
  auto r = owned_pending_request(user_token, request_id);
  if (!r.ok()) return std::move(r).error();
  auto invite = haven_.as_user_token(user_token, "POST", room_path(r->room_id, "/invite"),
                                     body_of({{"user_id", r->guest_user_id}}));
  if (!invite.ok()) return invite.error();
  return let_in(*r);
}

// POST /_haven/care/v1/guest_requests/{id}/reject: the owner denies the knock.
Status GuestService::reject(const std::string& user_token, const std::string& request_id) {
  auto r = owned_pending_request(user_token, request_id);
  if (!r.ok()) return std::move(r).error();
  auto kick = haven_.as_user_token(user_token, "POST", room_path(r->room_id, "/kick"),
                                   body_of({{"user_id", r->guest_user_id}}));
  if (!kick.ok()) return kick.error();
  r->status = RequestStatus::kRejected;
  return store_.put_request(*r);
}

Status GuestService::let_in(GuestRequest& r) {
  const std::string& guest = r.guest_user_id;
  auto join = haven_.as_service("POST", room_path(r.room_id, "/join"), "{}", guest);
  if (!join.ok()) return join.error();
  auto content = json::object();
  json::set(content, "membership", "join", content.GetAllocator());
  json::set(content, "displayname", r.name, content.GetAllocator());
  auto nick = haven_.as_service("PUT",
                                room_path(r.room_id, "/state/m.room.member/" + encode_segment(guest)),
                                json::to_string(content), guest);
  if (!nick.ok()) return nick.error();
  auto login = haven_.as_service(
      "POST", std::string(kClientV3) + "/login",
      R"({"type":"m.login.application_service","identifier":{"type":"m.id.user","user":")" +
          guest + R"("},"initial_device_display_name":"Guest"})");
  if (!login.ok()) return login.error();
  r.status = RequestStatus::kAccepted;
  r.access_token = json::get_string(login.body, "access_token");
  r.device_id = json::get_string(login.body, "device_id");
  r.last_active_ms = clock_.now_ms();
  r.haven_last_seen = 0;
  return store_.put_request(r);
}

void GuestService::on_member_event(const json::Value& event) {
  std::string target = json::get_string(event, "state_key");
  auto r = store_.request_of_guest(target);
  if (!r) return;
  const json::Value* content = nullptr;
  if (auto it = event.FindMember("content"); it != event.MemberEnd() && it->value.IsObject()) {
    content = &it->value;
  }
  if (!content || json::get_string(event, "room_id") != r->room_id) return;
  std::string membership = json::get_string(*content, "membership");
  std::string sender = json::get_string(event, "sender");
  if (r->status == RequestStatus::kPending && membership == "invite") {
    (void)let_in(*r);  // the owner said yes from a Matrix client
  } else if (r->status == RequestStatus::kPending && (membership == "leave" || membership == "ban") &&
             sender != target) {
    r->status = RequestStatus::kRejected;  // the owner said no from a Matrix client
    (void)store_.put_request(*r);
  } else if (r->status == RequestStatus::kAccepted &&
             (membership == "leave" || membership == "ban") && sender != target) {
    remove_guest(*r, "");  // the owner removed the guest
  }
}

// R18: a guest whose device haven saw no request from for an hour of haven-care's time.
void GuestService::sweep_idle() {
  int64_t now = clock_.now_ms();
  for (auto& r : store_.requests_with(RequestStatus::kAccepted)) {
    auto who = haven_.as_service("GET", "/_synapse/admin/v1/whois/" + encode_segment(r.guest_user_id),
                                 "", r.guest_user_id);
    if (!who.ok()) continue;
    int64_t seen = 0;
    if (auto it = who.body.FindMember("devices"); it != who.body.MemberEnd() && it->value.IsObject()) {
      for (auto& dev : it->value.GetObject()) {
        if (!dev.value.IsObject()) continue;
        auto sessions = dev.value.FindMember("sessions");
        if (sessions == dev.value.MemberEnd() || !sessions->value.IsArray()) continue;
        for (auto& s : sessions->value.GetArray()) {
          auto conns = s.FindMember("connections");
          if (conns == s.MemberEnd() || !conns->value.IsArray()) continue;
          for (auto& c : conns->value.GetArray()) seen = std::max(seen, json::get_int(c, "last_seen"));
        }
      }
    }
    if (seen != r.haven_last_seen) {
      r.haven_last_seen = seen;
      r.last_active_ms = now;
      (void)store_.put_request(r);
    } else if (now - r.last_active_ms >= config_.guest_idle_ms) {
      remove_guest(r, "Removed after an hour without activity");
    }
  }
}

void GuestService::remove_guest(GuestRequest& r, const std::string& reason) {
  const std::string& guest = r.guest_user_id;
  auto m = haven_.as_service("GET", room_path(r.room_id, "/state/m.room.member/" + encode_segment(guest)),
                             "", guest);
  if (json::get_string(m.body, "membership") == "join") {
    (void)haven_.as_service("POST", room_path(r.room_id, "/leave"), body_of({{"reason", reason}}),
                            guest);
  }
  if (!r.device_id.empty()) {
    (void)haven_.as_service("DELETE", std::string(kClientV3) + "/devices/" + encode_segment(r.device_id),
                            "{}", guest);
  }
  r.status = RequestStatus::kRemoved;
  r.access_token.clear();
  (void)store_.put_request(r);
}

}  // namespace haven::care
