// Client-Server API: profiles (display name and avatar), with changes carried into the
// user's m.room.member events in every room they are joined to.
#include <memory>
#include <optional>

#include "homeserver/accounts/account_store.h"
#include "homeserver/base/write.h"
#include "homeserver/client/account_ops.h"
#include "homeserver/client/appservice.h"
#include "homeserver/client/room_send.h"
#include "homeserver/client/routes.h"
#include "homeserver/policy/care_rules.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/ids.h"
#include "homeserver/rooms/room_service.h"

namespace haven::client {

namespace {

constexpr size_t kMaxDisplayNameBytes = 256;
constexpr size_t kMaxAvatarUrlBytes = 1024;

enum class Field { kDisplayName, kAvatarUrl };

const char* field_name(Field f) { return f == Field::kDisplayName ? "displayname" : "avatar_url"; }

std::string& field_of(accounts::User& u, Field f) {
  return f == Field::kDisplayName ? u.displayname : u.avatar_url;
}

// "mxc://<server-name>/<media-id>", the media id of url-safe characters.
bool is_mxc_uri(std::string_view uri) {
  constexpr std::string_view kScheme = "mxc://";
  if (uri.substr(0, kScheme.size()) != kScheme) return false;
  uri.remove_prefix(kScheme.size());
  auto slash = uri.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view server = uri.substr(0, slash), media = uri.substr(slash + 1);
  if (!rooms::is_valid_server_name(server) || media.empty()) return false;
  for (char c : media) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Status check_value(Field f, const std::string& value) {
  if (f == Field::kDisplayName) {
    if (value.size() > kMaxDisplayNameBytes) {
      return Error::invalid_param("displayname is longer than 256 bytes");
    }
    return {};
  }
  if (value.size() > kMaxAvatarUrlBytes || (!value.empty() && !is_mxc_uri(value))) {
    return Error::invalid_param("avatar_url must be an mxc:// URI");
  }
  return {};
}

// The local, active user whose profile `user_id` names, or M_NOT_FOUND.
Result<accounts::User> profile_owner(ServerContext& ctx, const std::string& user_id) {
  // Remote profiles need a federation query, which is not wired up yet.
  if (rooms::server_name_of(user_id) != ctx.server_name) {
    return Error::not_found("Profile not found");
  }
  auto txn = ctx.store->begin_read();
  auto u = accounts::get_user(*txn, user_id);
  if (!u || u->deactivated) return Error::not_found("Profile not found");
  return std::move(*u);
}

// The user's m.room.member join event in `room_id` again, with their current profile and the
// rest of its content kept. Runs on the writer, so it sees the membership as it is now: a user
// who left meanwhile is not joined back. nullptr when there is nothing to send.
Result<rooms::EventPtr> resend_join(storage::WriteTxn& txn, const rooms::LocalServer& server,
                                    const std::string& user_id, const std::string& room_id) {
  auto m = rooms::membership(txn, user_id, room_id);
  if (!m || m->membership != "join") return rooms::EventPtr();
  auto user = accounts::get_user(txn, user_id);
  auto current = rooms::current_state_event(txn, room_id, "m.room.member", user_id);
  if (!user || !current) return rooms::EventPtr();
  const json::Value& old = current->content();
  // A per-room nickname (care rules) stays: the profile is what it hides.
  if (json::get_bool(old, std::string(policy::kNicknameMarker).c_str())) return rooms::EventPtr();
  if (json::get_string(old, "displayname") == user->displayname &&
      json::get_string(old, "avatar_url") == user->avatar_url) {
    return rooms::EventPtr();
  }
  auto content = json::object();
  auto& a = content.GetAllocator();
  content.CopyFrom(old, a);
  // Only meaningful for the join that admitted the user to a restricted room.
  content.RemoveMember("join_authorised_via_users_server");
  content.RemoveMember("displayname");
  content.RemoveMember("avatar_url");
  json::set(content, "membership", "join", a);
  if (!user->displayname.empty()) json::set(content, "displayname", user->displayname, a);
  if (!user->avatar_url.empty()) json::set(content, "avatar_url", user->avatar_url, a);
  auto sent = rooms::send_event(
      txn, server, make_draft(room_id, user_id, "m.room.member", user_id, std::move(content)));
  if (!sent.ok()) return std::move(sent).error();
  return sent->event;
}

}  // namespace

// Sends the new profile into every room the user is joined to, one writer job per room (a
// room that refuses does not hold up the others), then calls `done`.
void propagate_profile(ServerContext& ctx, const std::string& user_id, std::function<void()> done) {
  std::vector<std::string> joined;
  {
    auto txn = ctx.store->begin_read();
    for (auto& [room_id, m] : rooms::rooms_of_user(*txn, user_id)) {
      if (m.membership == "join") joined.push_back(room_id);
    }
  }
  if (joined.empty()) return done();
  auto remaining = std::make_shared<size_t>(joined.size());
  auto finish = std::make_shared<std::function<void()>>(std::move(done));
  rooms::LocalServer server = local_server(ctx);
  for (const std::string& room_id : joined) {
    write<rooms::EventPtr>(
        *ctx.store,
        [server, user_id, room_id](storage::WriteTxn& txn) {
          return resend_join(txn, server, user_id, room_id);
        },
        [&ctx, remaining, finish](Result<rooms::EventPtr> r) {
          if (r.ok() && *r) notify_sent(ctx, **r);
          if (--*remaining == 0) (*finish)();
        });
  }
}

namespace {

// PUT and DELETE /_matrix/client/v3/profile/{userId}/{displayname|avatar_url}
void set_field(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who, Field f,
               std::optional<std::string> value) {
  const std::string& user_id = ex->params[0];
  if (user_id != who.user_id) {
    return ex->reply_error(Error::forbidden("You may only change your own profile"));
  }
  std::string v = value.value_or("");
  if (auto s = check_value(f, v); !s.ok()) return ex->reply_error(s.error());
  write<bool>(
      *ctx.store,
      [user_id, f, v](storage::WriteTxn& txn) -> Result<bool> {
        auto u = accounts::get_user(txn, user_id);
        if (!u) return Error::not_found("Profile not found");
        if (field_of(*u, f) == v) return false;
        field_of(*u, f) = v;
        HAVEN_TRY(check(accounts::put_user(txn, *u)));
        return true;
      },
      [&ctx, ex, user_id](Result<bool> r) {
        if (!r.ok()) return ex->reply_error(r.error());
        // Answer once the member events are in, so a client sees them in its next sync. Even
        // an unchanged value re-checks the rooms: an earlier propagation may have failed.
        propagate_profile(ctx, user_id, [ex] { ex->reply_json(200, "{}"); });
      });
}

// PUT /_matrix/client/v3/profile/{userId}/{displayname|avatar_url}
void put_field(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who, Field f) {
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto value = json::required_string(*body, field_name(f));
  if (!value.ok()) return ex->reply_error(value.error());
  set_field(ctx, ex, who, f, *value);
}

// The profile `ex` asks for, if its requester may see it. Under the care rules a profile is
// visible only to its owner's contacts, and to others exactly as if there were no such user.
Result<accounts::User> visible_profile(ServerContext& ctx, http::Exchange& ex) {
  if (ctx.care) {
    auto who = authenticate(ctx, ex);
    if (!who.ok()) return std::move(who).error();
    auto txn = ctx.store->begin_read();
    if (!ctx.care->are_contacts(*txn, who->user_id, ex.params[0])) {
      return Error::not_found("Profile not found");
    }
  }
  return profile_owner(ctx, ex.params[0]);
}

// GET /_matrix/client/v3/profile/{userId}/{displayname|avatar_url}
void get_field(ServerContext& ctx, const http::ExchangePtr& ex, Field f) {
  auto u = visible_profile(ctx, *ex);
  if (!u.ok()) return ex->reply_error(u.error());
  const std::string& value = field_of(*u, f);
  if (value.empty()) return ex->reply_error(Error::not_found("No such profile field"));
  auto d = json::object();
  json::set(d, field_name(f), value, d.GetAllocator());
  ex->reply_json(200, d);
}

// GET /_matrix/client/v3/profile/{userId}
void answer_profile(ServerContext& ctx, const http::ExchangePtr& ex) {
  auto u = visible_profile(ctx, *ex);
  if (!u.ok()) return ex->reply_error(u.error());
  auto d = json::object();
  auto& a = d.GetAllocator();
  if (!u->displayname.empty()) json::set(d, "displayname", u->displayname, a);
  if (!u->avatar_url.empty()) json::set(d, "avatar_url", u->avatar_url, a);
  ex->reply_json(200, d);
}

// An unknown user in an application service's exclusive namespace is first asked of the
// service, which may register it.
void get_profile(ServerContext& ctx, const http::ExchangePtr& ex) {
  ask_appservice_for_user(ctx, ex->params[0], [&ctx, ex] {
    if (!ex->closed()) answer_profile(ctx, ex);
  });
}

}  // namespace

void register_profile_routes(http::Router& r, ServerContext& ctx) {
  // Profiles are public (the spec's GET endpoints need no access token), except under the care
  // rules, which show them only to contacts.
  r.add("GET", v3("/profile/{userId}"), [&ctx](auto& ex) { get_profile(ctx, ex); });
  for (Field f : {Field::kDisplayName, Field::kAvatarUrl}) {
    std::string path = v3("/profile/{userId}/") + field_name(f);
    r.add("GET", path, [&ctx, f](auto& ex) { get_field(ctx, ex, f); });
    add_authed(r, ctx, "PUT", path, [&ctx, f](auto& ex, auto& who) { put_field(ctx, ex, who, f); });
    add_authed(r, ctx, "DELETE", path,
               [&ctx, f](auto& ex, auto& who) { set_field(ctx, ex, who, f, std::nullopt); });
  }
}

}  // namespace haven::client
