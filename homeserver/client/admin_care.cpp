// Haven's own admin API for the care rules, under /_haven/admin/v1 (server admins only): users
// made with a role, roles, contact links, feature switches, email addresses and conversation
// owners. Documented in README.md.
#include <set>

#include "appservices/appservices.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "homeserver/accounts/account_store.h"
#include "homeserver/accounts/registration.h"
#include "homeserver/base/write.h"
#include "homeserver/client/room_send.h"
#include "homeserver/client/routes.h"
#include "homeserver/email/notifier.h"
#include "homeserver/policy/care_rules.h"
#include "homeserver/policy/ownership.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/ids.h"
#include "homeserver/sync/notifier.h"

namespace haven::client {

namespace {

const std::string kPrefix = "/_haven/admin/v1";
constexpr size_t kMaxEmailBytes = 254;

// The rules the admin API applies: the server's, or the config's when the rules are off (the
// records can be provisioned before they are switched on).
const policy::CarePolicy& rules(ServerContext& ctx) {
  static const policy::CarePolicy fallback(ctx.config.care, ctx.server_name);
  return ctx.care ? *ctx.care : fallback;
}

Status require_local_user(ServerContext& ctx, const std::string& user_id) {
  if (!rooms::is_valid_user_id(user_id)) return Error::invalid_param("Invalid user id");
  if (rooms::server_name_of(user_id) != ctx.server_name) {
    return Error::invalid_param("This endpoint can only be used with local users");
  }
  auto txn = ctx.store->begin_read();
  if (!accounts::get_user(*txn, user_id)) return Error::not_found("User not found");
  return {};
}

// After roles or links changed: every room of these users re-checks who needs a nickname.
Result<std::set<std::string>> refresh_rooms_of(storage::WriteTxn& txn, const policy::CarePolicy& p,
                                               const std::vector<std::string>& users) {
  std::set<std::string> rooms_done;
  for (const std::string& user : users) {
    for (auto& [room_id, m] : rooms::rooms_of_user(txn, user)) {
      if (m.membership != "join" && m.membership != "invite") continue;
      if (!rooms_done.insert(room_id).second) continue;
      HAVEN_TRY(p.refresh_nickname_flags(txn, room_id));
    }
  }
  return rooms_done;
}

void notify_rooms(ServerContext& ctx, const std::set<std::string>& room_ids) {
  for (const std::string& room_id : room_ids) ctx.notifier->notify_room(room_id);
  if (ctx.appservices) ctx.appservices->events_appended();
}

// POST /_haven/admin/v1/users {"role", "displayname", "password"?, "username"?, "admin"?}
// Clients always get an opaque generated user id; professionals may be given a username.
void create_care_user(ServerContext& ctx, const http::ExchangePtr& ex, const Requester&) {
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto role_name = json::required_string(*body, "role");
  auto displayname = json::required_string(*body, "displayname");
  auto password = json::optional_string(*body, "password");
  auto username = json::optional_string(*body, "username");
  auto admin = json::optional_bool(*body, "admin");
  if (!role_name.ok()) return ex->reply_error(role_name.error());
  if (!displayname.ok()) return ex->reply_error(displayname.error());
  if (!password.ok()) return ex->reply_error(password.error());
  if (!username.ok()) return ex->reply_error(username.error());
  if (!admin.ok()) return ex->reply_error(admin.error());
  auto role = policy::parse_role(*role_name);
  if (!role) return ex->reply_error(Error::invalid_param("role must be client or professional"));
  if (displayname->empty() || displayname->size() > 256) {
    return ex->reply_error(Error::invalid_param("displayname must be 1 to 256 bytes"));
  }
  if (*username && *role == policy::Role::kClient) {
    return ex->reply_error(Error::invalid_param(
        "Clients get a generated user id that does not reveal who they are; omit username"));
  }
  accounts::NewAccount account;
  account.localpart = username->value_or((*role == policy::Role::kClient ? "c" : "p") +
                                         crypto::to_hex(crypto::random_bytes(6)));
  account.password = password->value_or("");
  account.admin = admin->value_or(false);
  account.displayname = *displayname;
  account.inhibit_login = true;
  policy::Role r = *role;
  account.also_write = [r](storage::WriteTxn& txn, const std::string& user_id) -> Status {
    return check(policy::set_role(txn, user_id, r));
  };
  accounts::create_account(ctx, std::move(account), [ex, r](Result<accounts::Session> s) {
    if (!s.ok()) return ex->reply_error(s.error());
    auto d = json::object();
    json::set(d, "user_id", s->user_id, d.GetAllocator());
    json::set(d, "role", policy::role_name(r), d.GetAllocator());
    ex->reply_json(200, d);
  });
}

// GET /_haven/admin/v1/users/{userId}/role
void get_role(ServerContext& ctx, const http::ExchangePtr& ex, const Requester&) {
  const std::string& user_id = ex->params[0];
  if (auto s = require_local_user(ctx, user_id); !s.ok()) return ex->reply_error(s.error());
  auto txn = ctx.store->begin_read();
  auto d = json::object();
  json::set(d, "role", policy::role_name(rules(ctx).role_of(*txn, user_id)), d.GetAllocator());
  json::set(d, "assigned", policy::stored_role(*txn, user_id).has_value(), d.GetAllocator());
  ex->reply_json(200, d);
}

// PUT /_haven/admin/v1/users/{userId}/role {"role": "client"|"professional"}
void put_role(ServerContext& ctx, const http::ExchangePtr& ex, const Requester&) {
  const std::string user_id = ex->params[0];
  if (auto s = require_local_user(ctx, user_id); !s.ok()) return ex->reply_error(s.error());
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto name = json::required_string(*body, "role");
  if (!name.ok()) return ex->reply_error(name.error());
  auto role = policy::parse_role(*name);
  if (!role) return ex->reply_error(Error::invalid_param("role must be client or professional"));
  const policy::CarePolicy& p = rules(ctx);
  write<std::set<std::string>>(
      *ctx.store,
      [&p, user_id, role = *role](storage::WriteTxn& txn) -> Result<std::set<std::string>> {
        HAVEN_TRY(check(policy::set_role(txn, user_id, role)));
        return refresh_rooms_of(txn, p, {user_id});
      },
      [&ctx, ex](Result<std::set<std::string>> r) {
        if (!r.ok()) return ex->reply_error(r.error());
        notify_rooms(ctx, *r);
        ex->reply_json(200, "{}");
      });
}

// PUT and DELETE /_haven/admin/v1/users/{userId}/contacts/{otherUserId}
void change_link(ServerContext& ctx, const http::ExchangePtr& ex, bool linked) {
  const std::string user_id = ex->params[0], other = ex->params[1];
  if (auto s = require_local_user(ctx, user_id); !s.ok()) return ex->reply_error(s.error());
  if (!rooms::is_valid_user_id(other)) {
    return ex->reply_error(Error::invalid_param("Invalid contact user id"));
  }
  if (other == user_id)
    return ex->reply_error(Error::invalid_param("A user is not their own contact"));
  if (rooms::server_name_of(other) == ctx.server_name) {
    if (auto s = require_local_user(ctx, other); !s.ok()) return ex->reply_error(s.error());
  }
  const policy::CarePolicy& p = rules(ctx);
  write<std::set<std::string>>(
      *ctx.store,
      [&p, user_id, other, linked](storage::WriteTxn& txn) -> Result<std::set<std::string>> {
        HAVEN_TRY(check(linked ? policy::link(txn, user_id, other)
                               : policy::unlink(txn, user_id, other)));
        return refresh_rooms_of(txn, p, {user_id, other});
      },
      [&ctx, ex](Result<std::set<std::string>> r) {
        if (!r.ok()) return ex->reply_error(r.error());
        notify_rooms(ctx, *r);
        ex->reply_json(200, "{}");
      });
}

// GET /_haven/admin/v1/users/{userId}/contacts
void get_contacts(ServerContext& ctx, const http::ExchangePtr& ex, const Requester&) {
  const std::string& user_id = ex->params[0];
  if (auto s = require_local_user(ctx, user_id); !s.ok()) return ex->reply_error(s.error());
  auto txn = ctx.store->begin_read();
  const policy::CarePolicy& p = rules(ctx);
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value contacts(rapidjson::kArrayType);
  for (const std::string& other : p.contacts_of(*txn, user_id)) {
    json::Value c(rapidjson::kObjectType);
    json::set(c, "user_id", other, a);
    json::set(c, "linked", policy::is_linked(*txn, user_id, other), a);
    contacts.PushBack(std::move(c), a);
  }
  json::set(d, "contacts", std::move(contacts), a);
  ex->reply_json(200, d);
}

void reply_features(const http::ExchangePtr& ex, const policy::Features& f) {
  auto d = json::object();
  json::set(d, "guest_links", f.guest_links, d.GetAllocator());
  json::set(d, "temporary_rooms", f.temporary_rooms, d.GetAllocator());
  ex->reply_json(200, d);
}

// GET /_haven/admin/v1/features
void get_features(ServerContext& ctx, const http::ExchangePtr& ex, const Requester&) {
  auto txn = ctx.store->begin_read();
  reply_features(ex, policy::features(*txn, ctx.config.care));
}

// PUT /_haven/admin/v1/features {"guest_links"?: bool, "temporary_rooms"?: bool}
void put_features(ServerContext& ctx, const http::ExchangePtr& ex, const Requester&) {
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto guest_links = json::optional_bool(*body, "guest_links");
  auto temporary_rooms = json::optional_bool(*body, "temporary_rooms");
  if (!guest_links.ok()) return ex->reply_error(guest_links.error());
  if (!temporary_rooms.ok()) return ex->reply_error(temporary_rooms.error());
  conf::Care config = ctx.config.care;
  write<policy::Features>(
      *ctx.store,
      [config, g = *guest_links,
       t = *temporary_rooms](storage::WriteTxn& txn) -> Result<policy::Features> {
        policy::Features f = policy::features(txn, config);
        if (g) f.guest_links = *g;
        if (t) f.temporary_rooms = *t;
        HAVEN_TRY(check(policy::set_features(txn, f)));
        return f;
      },
      [ex](Result<policy::Features> r) {
        if (!r.ok()) return ex->reply_error(r.error());
        reply_features(ex, *r);
      });
}

// An address for notices: one '@', no spaces or control characters (they would end up in mail
// headers), at most 254 bytes.
bool is_plausible_email(std::string_view email) {
  if (email.empty() || email.size() > kMaxEmailBytes) return false;
  size_t at = email.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 == email.size()) return false;
  if (email.find('@', at + 1) != std::string_view::npos) return false;
  for (unsigned char ch : email) {
    if (ch <= 0x20 || ch == 0x7f || ch == '<' || ch == '>' || ch == ',' || ch == ';') return false;
  }
  return true;
}

// PUT /_haven/admin/v1/users/{userId}/email {"email": "..."}; "" removes it.
void put_email(ServerContext& ctx, const http::ExchangePtr& ex, const Requester&) {
  const std::string user_id = ex->params[0];
  if (auto s = require_local_user(ctx, user_id); !s.ok()) return ex->reply_error(s.error());
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto email = json::required_string(*body, "email");
  if (!email.ok()) return ex->reply_error(email.error());
  if (!email->empty() && !is_plausible_email(*email)) {
    return ex->reply_error(Error::invalid_param("Not an email address"));
  }
  write<bool>(
      *ctx.store,
      [user_id, email = *email](storage::WriteTxn& txn) -> Result<bool> {
        auto user = accounts::get_user(txn, user_id);
        if (!user) return Error::not_found("User not found");
        if (user->email != email) user->email_added_ts = email.empty() ? 0 : now_ms();
        user->email = email;
        HAVEN_TRY(check(accounts::put_user(txn, *user)));
        return true;
      },
      [&ctx, ex, user_id](Result<bool> r) {
        if (r.ok() && ctx.email) ctx.email->recheck(user_id);
        reply_empty(ex)(std::move(r));
      });
}

// GET /_haven/admin/v1/users/{userId}/email
void get_email(ServerContext& ctx, const http::ExchangePtr& ex, const Requester&) {
  const std::string& user_id = ex->params[0];
  if (auto s = require_local_user(ctx, user_id); !s.ok()) return ex->reply_error(s.error());
  auto txn = ctx.store->begin_read();
  auto user = accounts::get_user(*txn, user_id);
  auto d = json::object();
  json::set(d, "email", user->email, d.GetAllocator());
  ex->reply_json(200, d);
}

// PUT /_haven/admin/v1/rooms/{roomId}/owner {"user_id", "remove_previous_owner"?: bool}
void put_owner(ServerContext& ctx, const http::ExchangePtr& ex, const Requester&) {
  const std::string room_id = ex->params[0];
  if (!rooms::is_valid_room_id(room_id))
    return ex->reply_error(Error::invalid_param("Invalid room id"));
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto new_owner = json::required_string(*body, "user_id");
  auto remove_previous = json::optional_bool(*body, "remove_previous_owner");
  if (!new_owner.ok()) return ex->reply_error(new_owner.error());
  if (!remove_previous.ok()) return ex->reply_error(remove_previous.error());
  if (!rooms::is_valid_user_id(*new_owner))
    return ex->reply_error(Error::invalid_param("Invalid user id"));
  rooms::LocalServer server = local_server(ctx);
  auto sent = std::make_shared<std::vector<rooms::EventPtr>>();
  write<bool>(
      *ctx.store,
      [server, room_id, owner = *new_owner, remove = remove_previous->value_or(false),
       sent](storage::WriteTxn& txn) -> Result<bool> {
        auto events = policy::transfer_ownership(txn, server, room_id, owner, remove);
        if (!events.ok()) return std::move(events).error();
        *sent = std::move(*events);
        return true;
      },
      [&ctx, ex, sent](Result<bool> r) {
        if (!r.ok()) return ex->reply_error(r.error());
        ex->reply_json(200, "{}");
        for (const auto& event : *sent) notify_sent(ctx, *event);
      });
}

// GET /_haven/admin/v1/rooms/{roomId}/owner
void get_owner(ServerContext& ctx, const http::ExchangePtr& ex, const Requester&) {
  auto txn = ctx.store->begin_read();
  auto owner = policy::room_owner(*txn, ex->params[0]);
  if (!owner) return ex->reply_error(Error::not_found("No owner is recorded for this room"));
  auto d = json::object();
  json::set(d, "user_id", *owner, d.GetAllocator());
  ex->reply_json(200, d);
}

// PUT /_haven/admin/v1/users/{userId}/guest {"room_id"}: the user becomes a guest whose tokens
// reach that room only (R17); for haven-care's guest users, while guest links are switched on.
void put_guest(ServerContext& ctx, const http::ExchangePtr& ex, const Requester&) {
  const std::string user_id = ex->params[0];
  if (auto s = require_local_user(ctx, user_id); !s.ok()) return ex->reply_error(s.error());
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto room_id = json::required_string(*body, "room_id");
  if (!room_id.ok()) return ex->reply_error(room_id.error());
  {
    auto txn = ctx.store->begin_read();
    if (!policy::features(*txn, ctx.config.care).guest_links) {
      return ex->reply_error(Error::forbidden("Guest links are switched off on this server"));
    }
    if (!rooms::is_valid_room_id(*room_id) || !rooms::get_room(*txn, *room_id)) {
      return ex->reply_error(Error::not_found("Unknown room"));
    }
  }
  write<bool>(
      *ctx.store,
      [user_id, room_id = *room_id](storage::WriteTxn& txn) -> Result<bool> {
        HAVEN_TRY(check(policy::set_guest_room(txn, user_id, room_id)));
        return true;
      },
      reply_empty(ex));
}

// DELETE /_haven/admin/v1/users/{userId}/guest: the user is no longer a guest.
void delete_guest(ServerContext& ctx, const http::ExchangePtr& ex, const Requester&) {
  const std::string user_id = ex->params[0];
  if (auto s = require_local_user(ctx, user_id); !s.ok()) return ex->reply_error(s.error());
  write<bool>(
      *ctx.store,
      [user_id](storage::WriteTxn& txn) -> Result<bool> {
        HAVEN_TRY(check(policy::clear_guest(txn, user_id)));
        return true;
      },
      reply_empty(ex));
}

}  // namespace

void register_care_admin_routes(http::Router& r, ServerContext& ctx) {
  auto add = [&](const char* method, const std::string& path, AuthedHandler handler) {
    add_admin(r, ctx, method, kPrefix + path, std::move(handler));
  };
  add("POST", "/users", [&ctx](auto& ex, auto& who) { create_care_user(ctx, ex, who); });
  add("GET", "/users/{userId}/role", [&ctx](auto& ex, auto& who) { get_role(ctx, ex, who); });
  add("PUT", "/users/{userId}/role", [&ctx](auto& ex, auto& who) { put_role(ctx, ex, who); });
  add("GET", "/users/{userId}/contacts",
      [&ctx](auto& ex, auto& who) { get_contacts(ctx, ex, who); });
  add("PUT", "/users/{userId}/contacts/{otherUserId}",
      [&ctx](auto& ex, auto&) { change_link(ctx, ex, true); });
  add("DELETE", "/users/{userId}/contacts/{otherUserId}",
      [&ctx](auto& ex, auto&) { change_link(ctx, ex, false); });
  add("GET", "/users/{userId}/email", [&ctx](auto& ex, auto& who) { get_email(ctx, ex, who); });
  add("PUT", "/users/{userId}/email", [&ctx](auto& ex, auto& who) { put_email(ctx, ex, who); });
  add("GET", "/features", [&ctx](auto& ex, auto& who) { get_features(ctx, ex, who); });
  add("PUT", "/features", [&ctx](auto& ex, auto& who) { put_features(ctx, ex, who); });
  add("GET", "/rooms/{roomId}/owner", [&ctx](auto& ex, auto& who) { get_owner(ctx, ex, who); });
  add("PUT", "/rooms/{roomId}/owner", [&ctx](auto& ex, auto& who) { put_owner(ctx, ex, who); });
  add("PUT", "/users/{userId}/guest", [&ctx](auto& ex, auto& who) { put_guest(ctx, ex, who); });
  add("DELETE", "/users/{userId}/guest",
      [&ctx](auto& ex, auto& who) { delete_guest(ctx, ex, who); });
}

}  // namespace haven::client
