// Synapse-compatible admin API for users (docs/admin_api/user_admin_api.md in Synapse): the
// server version, query, create or modify, list, the admin flag, whois, password reset and
// deactivation. Server admins only, except the server version (public) and whois (also the
// user themself).
#include <algorithm>
#include <memory>
#include <vector>

#include "homeserver/accounts/account_store.h"
#include "homeserver/accounts/registration.h"
#include "homeserver/base/write.h"
#include "homeserver/client/account_ops.h"
#include "homeserver/client/admin_params.h"
#include "homeserver/client/routes.h"
#include "homeserver/rooms/ids.h"

#ifndef HAVEN_VERSION
#define HAVEN_VERSION "unknown"
#endif

namespace haven::client {

namespace {

const std::string kV1 = "/_synapse/admin/v1";
const std::string kV2 = "/_synapse/admin/v2";
constexpr std::string_view kLocalOnly = "This endpoint can only be used with local users";
constexpr size_t kMaxDisplayNameBytes = 256;
constexpr size_t kMaxAvatarUrlBytes = 1024;
constexpr size_t kMaxPasswordBytes = 512;
constexpr size_t kMaxEmailBytes = 254;
constexpr int64_t kMaxPageSize = 1000;

// The newest last_seen_ts of the user's devices; 0 when none was ever seen.
int64_t last_seen_of(storage::ReadTxn& txn, const std::string& user_id) {
  int64_t last = 0;
  for (const auto& d : accounts::list_devices(txn, user_id)) last = std::max(last, d.last_seen_ts);
  return last;
}

void set_or_null(json::Value& obj, const char* key, const std::string& s, json::Alloc& a) {
  if (s.empty()) {
    json::set(obj, key, json::Value(rapidjson::kNullType), a);
  } else {
    json::set(obj, key, s, a);
  }
}

enum class UserView { kList, kFull };

// A user as Synapse shows one. Synapse gives creation_ts in seconds for a single user and in
// milliseconds in the list; tools read both, so both are kept.
json::Value user_json(const accounts::User& u, int64_t last_seen_ts, UserView view,
                      json::Alloc& a) {
  json::Value o(rapidjson::kObjectType);
  json::set(o, "name", u.user_id, a);
  json::set(o, "is_guest", u.is_guest, a);
  json::set(o, "admin", u.admin, a);
  set_or_null(o, "user_type", u.user_type, a);
  json::set(o, "deactivated", u.deactivated, a);
  json::set(o, "erased", false, a);
  json::set(o, "shadow_banned", false, a);
  json::set(o, "locked", false, a);
  set_or_null(o, "displayname", u.displayname, a);
  set_or_null(o, "avatar_url", u.avatar_url, a);
  json::set(o, "creation_ts", view == UserView::kFull ? u.creation_ts / 1000 : u.creation_ts, a);
  if (last_seen_ts > 0) {
    json::set(o, "last_seen_ts", last_seen_ts, a);
  } else {
    json::set(o, "last_seen_ts", json::Value(rapidjson::kNullType), a);
  }
  if (view == UserView::kFull) {
    json::Value threepids(rapidjson::kArrayType);
    if (!u.email.empty()) {
      json::Value t(rapidjson::kObjectType);
      json::set(t, "medium", "email", a);
      json::set(t, "address", u.email, a);
      json::set(t, "added_at", u.email_added_ts, a);
      json::set(t, "validated_at", u.email_added_ts, a);
      threepids.PushBack(std::move(t), a);
    }
    json::set(o, "threepids", std::move(threepids), a);
    json::set(o, "external_ids", json::Value(rapidjson::kArrayType), a);
    json::set(o, "appservice_id", json::Value(rapidjson::kNullType), a);
    json::set(o, "suspended", false, a);
  }
  return o;
}

void reply_user(ServerContext& ctx, const http::ExchangePtr& ex, const std::string& user_id,
                int status) {
  auto txn = ctx.store->begin_read();
  auto u = accounts::get_user(*txn, user_id);
  if (!u) return ex->reply_error(Error::not_found("User not found"));
  auto d = json::object();
  json::Value body = user_json(*u, last_seen_of(*txn, user_id), UserView::kFull, d.GetAllocator());
  ex->reply_json(status, body);
}

// The path's user id, local and known: 400 M_INVALID_PARAM or 404 M_NOT_FOUND otherwise.
Result<accounts::User> known_local_user(ServerContext& ctx, const std::string& user_id,
                                        std::string_view remote_message) {
  auto id = local_user_id(ctx, user_id, remote_message);
  if (!id.ok()) return std::move(id).error();
  auto txn = ctx.store->begin_read();
  auto u = accounts::get_user(*txn, *id);
  if (!u) return Error::not_found("User not found");
  return std::move(*u);
}

Status check_password(const std::string& password) {
  if (password.empty() || password.size() > kMaxPasswordBytes) {
    return Error::with(400, "M_WEAK_PASSWORD", "Password must be 1-512 bytes");
  }
  return {};
}

// The body of PUT /_synapse/admin/v2/users/{userId}, checked.
struct UserChanges {
  std::optional<std::string> password;
  bool logout_devices = true;
  std::optional<std::string> displayname;
  std::optional<std::string> avatar_url;
  std::optional<bool> admin;
  std::optional<bool> deactivated;
  std::optional<std::optional<std::string>> user_type;  // set, or cleared with null
  std::optional<std::string> email;                     // from threepids; "" removes it
};

// A member that may be null (treated as absent) or a string.
Result<std::optional<std::string>> nullable_string(const json::Value& body, const char* key) {
  auto it = body.FindMember(key);
  if (it == body.MemberEnd() || it->value.IsNull()) return std::optional<std::string>();
  return json::optional_string(body, key);
}

Result<std::optional<std::string>> email_of(const json::Value& body) {
  auto it = body.FindMember("threepids");
  if (it == body.MemberEnd() || it->value.IsNull()) return std::optional<std::string>();
  if (!it->value.IsArray()) return Error::bad_json("'threepids' must be a list");
  std::string email;
  for (const auto& t : it->value.GetArray()) {
    if (!t.IsObject()) return Error::bad_json("Each threepid must be an object");
    auto medium = json::required_string(t, "medium");
    if (!medium.ok()) return std::move(medium).error();
    auto address = json::required_string(t, "address");
    if (!address.ok()) return std::move(address).error();
    if (*medium != "email") {
      return Error::invalid_param("Only email addresses are supported as threepids");
    }
    if (!email.empty() && email != *address) {
      return Error::invalid_param("Haven keeps one email address per user");
    }
    if (address->empty() || address->size() > kMaxEmailBytes ||
        address->find('@') == std::string::npos) {
      return Error::invalid_param("Invalid email address");
    }
    email = *address;
  }
  return std::optional<std::string>(email);
}

Result<UserChanges> parse_user_changes(const json::Value& body) {
  UserChanges c;
  auto password = nullable_string(body, "password");
  if (!password.ok()) return std::move(password).error();
  if (*password) {
    HAVEN_TRY(check_password(**password));
    c.password = **password;
  }
  auto logout = json::optional_bool(body, "logout_devices");
  if (!logout.ok()) return std::move(logout).error();
  c.logout_devices = logout->value_or(true);
  auto displayname = nullable_string(body, "displayname");
  if (!displayname.ok()) return std::move(displayname).error();
  if (*displayname && (*displayname)->size() > kMaxDisplayNameBytes) {
    return Error::invalid_param("displayname is longer than 256 bytes");
  }
  c.displayname = *displayname;
  auto avatar = nullable_string(body, "avatar_url");
  if (!avatar.ok()) return std::move(avatar).error();
  if (*avatar && !(*avatar)->empty() &&
      ((*avatar)->size() > kMaxAvatarUrlBytes || (*avatar)->rfind("mxc://", 0) != 0)) {
    return Error::invalid_param("avatar_url must be an mxc:// URI");
  }
  c.avatar_url = *avatar;
  auto admin = json::optional_bool(body, "admin");
  if (!admin.ok()) return std::move(admin).error();
  c.admin = *admin;
  auto deactivated = json::optional_bool(body, "deactivated");
  if (!deactivated.ok()) return std::move(deactivated).error();
  c.deactivated = *deactivated;
  auto locked = json::optional_bool(body, "locked");
  if (!locked.ok()) return std::move(locked).error();
  if (locked->value_or(false)) return Error::invalid_param("Locking accounts is not supported");
  if (auto it = body.FindMember("user_type"); it != body.MemberEnd()) {
    if (it->value.IsNull()) {
      c.user_type = std::optional<std::string>();
    } else if (it->value.IsString() &&
               (std::string_view(it->value.GetString()) == "bot" ||
                std::string_view(it->value.GetString()) == "support")) {
      c.user_type = std::optional<std::string>(it->value.GetString());
    } else {
      return Error::invalid_param("Invalid user type");
    }
  }
  auto email = email_of(body);
  if (!email.ok()) return std::move(email).error();
  c.email = *email;
  if (auto it = body.FindMember("external_ids"); it != body.MemberEnd() && !it->value.IsNull()) {
    if (!it->value.IsArray()) return Error::bad_json("'external_ids' must be a list");
    if (!it->value.Empty()) {
      return Error::invalid_param("external_ids are not supported: Haven has no single sign-on");
    }
  }
  return c;
}

// Applies the plain fields of `c` to a stored user (no password, no deactivation).
void apply_fields(accounts::User& u, const UserChanges& c) {
  if (c.displayname) u.displayname = *c.displayname;
  if (c.avatar_url) u.avatar_url = *c.avatar_url;
  if (c.admin) u.admin = *c.admin;
  if (c.user_type) u.user_type = c.user_type->value_or("");
  if (c.email && *c.email != u.email) {
    u.email = *c.email;
    u.email_added_ts = u.email.empty() ? 0 : now_ms();
  }
}

// Runs asynchronous steps one after another; the first error ends the run.
using Step = std::function<void(std::function<void(Status)>)>;
void run_steps(std::shared_ptr<std::vector<Step>> steps, size_t i,
               std::function<void(Status)> done) {
  if (i == steps->size()) return done({});
  (*steps)[i]([steps, i, done](Status s) {
    if (!s.ok()) return done(std::move(s));
    run_steps(steps, i + 1, done);
  });
}

std::function<void(Result<bool>)> to_status(std::function<void(Status)> next) {
  return [next](Result<bool> r) {
    if (!r.ok()) return next(std::move(r).error());
    next({});
  };
}

void modify_user(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who,
                 const accounts::User& current, UserChanges c) {
  const std::string user_id = current.user_id;
  if (user_id == who.user_id && c.admin == false) {
    return ex->reply_error(Error::with(400, "M_UNKNOWN", "You may not demote yourself."));
  }
  bool reactivate = c.deactivated == false && current.deactivated;
  bool deactivate = c.deactivated == true && !current.deactivated;
  bool profile_changed = (c.displayname && *c.displayname != current.displayname) ||
                         (c.avatar_url && *c.avatar_url != current.avatar_url);
  auto steps = std::make_shared<std::vector<Step>>();
  steps->push_back([&ctx, user_id, c, reactivate](std::function<void(Status)> next) {
    write<bool>(
        *ctx.store,
        [user_id, c, reactivate](storage::WriteTxn& txn) -> Result<bool> {
          auto u = accounts::get_user(txn, user_id);
          if (!u) return Error::not_found("User not found");
          apply_fields(*u, c);
          if (reactivate) u->deactivated = false;
          HAVEN_TRY(check(accounts::put_user(txn, *u)));
          return true;
        },
        to_status(next));
  });
  if (c.password) {
    steps->push_back([&ctx, user_id, c](std::function<void(Status)> next) {
      set_password(ctx, user_id, *c.password, c.logout_devices, std::nullopt, to_status(next));
    });
  }
  if (deactivate) {
    steps->push_back([&ctx, user_id](std::function<void(Status)> next) {
      deactivate_account(ctx, user_id, to_status(next));
    });
  } else if (profile_changed) {
    steps->push_back([&ctx, user_id](std::function<void(Status)> next) {
      propagate_profile(ctx, user_id, [next] { next({}); });
    });
  }
  run_steps(steps, 0, [&ctx, ex, user_id](Status s) {
    if (!s.ok()) return ex->reply_error(s.error());
    reply_user(ctx, ex, user_id, 200);
  });
}

void create_user(ServerContext& ctx, const http::ExchangePtr& ex, const std::string& user_id,
                 UserChanges c) {
  accounts::NewAccount account;
  account.localpart = std::string(rooms::localpart_of(user_id));
  account.password = c.password.value_or("");
  account.admin = c.admin.value_or(false);
  account.displayname = c.displayname.value_or("");
  account.inhibit_login = true;
  account.also_write = [c](storage::WriteTxn& txn, const std::string& id) -> Status {
    auto u = accounts::get_user(txn, id);
    if (!u) return Error::unknown("The new account is missing");
    UserChanges rest = c;
    rest.displayname.reset();  // create_account chose it (the localpart when none is given)
    apply_fields(*u, rest);
    return check(accounts::put_user(txn, *u));
  };
  accounts::create_account(ctx, account, [&ctx, ex, user_id](Result<accounts::Session> r) {
    if (!r.ok()) return ex->reply_error(r.error());
    reply_user(ctx, ex, user_id, 201);
  });
}

// GET /_synapse/admin/v1/server_version
void server_version(const http::ExchangePtr& ex) {
  auto d = json::object();
  json::set(d, "server_version", std::string("haven ") + HAVEN_VERSION, d.GetAllocator());
  ex->reply_json(200, d);
}

// GET /_synapse/admin/v2/users/{userId}
void get_user(ServerContext& ctx, const http::ExchangePtr& ex) {
  auto u = known_local_user(ctx, ex->params[0], "Can only look up local users");
  if (!u.ok()) return ex->reply_error(u.error());
  reply_user(ctx, ex, u->user_id, 200);
}

// PUT /_synapse/admin/v2/users/{userId}
void put_user(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto id = local_user_id(ctx, ex->params[0], kLocalOnly);
  if (!id.ok()) return ex->reply_error(id.error());
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto changes = parse_user_changes(*body);
  if (!changes.ok()) return ex->reply_error(changes.error());
  std::optional<accounts::User> current;
  {
    auto txn = ctx.store->begin_read();
    current = accounts::get_user(*txn, *id);
  }
  if (current) return modify_user(ctx, ex, who, *current, std::move(changes.value()));
  create_user(ctx, ex, *id, std::move(changes.value()));
}

const std::initializer_list<std::string_view> kUserOrders = {
    "name",     "is_guest", "admin",      "user_type",    "deactivated", "shadow_banned",
    "displayname", "avatar_url", "creation_ts", "last_seen_ts", "locked"};

// GET /_synapse/admin/v2/users
void list_users(ServerContext& ctx, const http::ExchangePtr& ex) {
  auto from = query_int(*ex, "from", 0, 0, INT64_MAX);
  auto limit = query_int(*ex, "limit", 100, 1, INT64_MAX);
  auto guests = query_bool(*ex, "guests");
  auto deactivated = query_bool(*ex, "deactivated");
  auto admins = query_bool(*ex, "admins");
  auto locked = query_bool(*ex, "locked");
  auto order_by = query_enum(*ex, "order_by", "name", kUserOrders);
  auto forwards = query_forwards(*ex);
  for (auto* r : {&from, &limit}) {
    if (!r->ok()) return ex->reply_error(r->error());
  }
  for (auto* r : {&guests, &deactivated, &admins, &locked}) {
    if (!r->ok()) return ex->reply_error(r->error());
  }
  if (!order_by.ok()) return ex->reply_error(order_by.error());
  if (!forwards.ok()) return ex->reply_error(forwards.error());
  int64_t page = std::min(*limit, kMaxPageSize);
  std::string user_id_filter = ex->query("user_id").value_or("");
  std::string name_filter = ex->query("name").value_or("");
  std::vector<std::string> not_types = ex->query_all("not_user_type");
  auto lower = [](std::string s) {
    for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
  };
  std::string name_lower = lower(name_filter);

  auto txn = ctx.store->begin_read();
  struct Row {
    accounts::User user;
    int64_t last_seen = 0;
  };
  std::vector<Row> rows;
  for (auto& u : accounts::all_users(*txn)) {
    if (!guests->value_or(true) && u.is_guest) continue;
    if (!deactivated->value_or(false) && u.deactivated) continue;
    if (admins->has_value() && u.admin != **admins) continue;
    if (std::find(not_types.begin(), not_types.end(), u.user_type) != not_types.end()) continue;
    if (!name_filter.empty()) {
      if (lower(std::string(rooms::localpart_of(u.user_id))).find(name_lower) == std::string::npos &&
          lower(u.displayname).find(name_lower) == std::string::npos) {
        continue;
      }
    } else if (!user_id_filter.empty() && u.user_id.find(user_id_filter) == std::string::npos) {
      continue;
    }
    rows.push_back(Row{std::move(u), 0});
  }
  const std::string& order = *order_by;
  if (order == "last_seen_ts") {
    for (auto& r : rows) r.last_seen = last_seen_of(*txn, r.user.user_id);
  }
  // Compares by the ordered field only: -1, 0, 1.
  auto field_cmp = [&order](const Row& a, const Row& b) -> int {
    auto cmp = [](const auto& x, const auto& y) { return x < y ? -1 : (y < x ? 1 : 0); };
    if (order == "is_guest") return cmp(a.user.is_guest, b.user.is_guest);
    if (order == "admin") return cmp(a.user.admin, b.user.admin);
    if (order == "user_type") return cmp(a.user.user_type, b.user.user_type);
    if (order == "deactivated") return cmp(a.user.deactivated, b.user.deactivated);
    if (order == "displayname") return cmp(a.user.displayname, b.user.displayname);
    if (order == "avatar_url") return cmp(a.user.avatar_url, b.user.avatar_url);
    if (order == "creation_ts") return cmp(a.user.creation_ts, b.user.creation_ts);
    if (order == "last_seen_ts") return cmp(a.last_seen, b.last_seen);
    return 0;  // name, and the fields Haven does not have (shadow_banned, locked): all equal
  };
  bool fwd = *forwards;
  std::sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
    int c = field_cmp(a, b);
    if (c != 0) return fwd ? c < 0 : c > 0;
    // Ties by ascending name, as Synapse documents; ordering by name follows `dir` too.
    if (order == "name" && !fwd) return a.user.user_id > b.user.user_id;
    return a.user.user_id < b.user.user_id;
  });

  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value users(rapidjson::kArrayType);
  int64_t total = static_cast<int64_t>(rows.size());
  int64_t start = std::min(*from, total);
  int64_t end = start + std::min(page, total - start);
  for (int64_t i = start; i < end; ++i) {
    const Row& r = rows[static_cast<size_t>(i)];
    int64_t seen = order == "last_seen_ts" ? r.last_seen : last_seen_of(*txn, r.user.user_id);
    users.PushBack(user_json(r.user, seen, UserView::kList, a), a);
  }
  json::set(d, "users", std::move(users), a);
  json::set(d, "total", total, a);
  if (end < total) json::set(d, "next_token", std::to_string(end), a);
  ex->reply_json(200, d);
}

// GET /_synapse/admin/v1/users/{userId}/admin
void get_admin(ServerContext& ctx, const http::ExchangePtr& ex) {
  auto u = known_local_user(ctx, ex->params[0], "Only local users can be admins of this homeserver");
  if (!u.ok()) return ex->reply_error(u.error());
  auto d = json::object();
  json::set(d, "admin", u->admin, d.GetAllocator());
  ex->reply_json(200, d);
}

// PUT /_synapse/admin/v1/users/{userId}/admin
void put_admin(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto admin = json::optional_bool(*body, "admin");
  if (!admin.ok()) return ex->reply_error(admin.error());
  if (!*admin) return ex->reply_error(Error::missing_param("Missing 'admin'"));
  auto u = known_local_user(ctx, ex->params[0], "Only local users can be admins of this homeserver");
  if (!u.ok()) return ex->reply_error(u.error());
  if (u->user_id == who.user_id && !**admin) {
    return ex->reply_error(Error::with(400, "M_UNKNOWN", "You may not demote yourself."));
  }
  write<bool>(
      *ctx.store,
      [user_id = u->user_id, value = **admin](storage::WriteTxn& txn) -> Result<bool> {
        auto user = accounts::get_user(txn, user_id);
        if (!user) return Error::not_found("User not found");
        user->admin = value;
        HAVEN_TRY(check(accounts::put_user(txn, *user)));
        return true;
      },
      reply_empty(ex));
}

// GET /_synapse/admin/v1/whois/{userId} and /_matrix/client/v3/admin/whois/{userId}
void whois(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  if (ex->params[0] != who.user_id && !who.admin) {
    return ex->reply_error(Error::forbidden("You are not a server admin"));
  }
  auto u = known_local_user(ctx, ex->params[0], "Can only whois a local user");
  if (!u.ok()) return ex->reply_error(u.error());
  auto txn = ctx.store->begin_read();
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value devices(rapidjson::kObjectType);
  for (const auto& dev : accounts::list_devices(*txn, u->user_id)) {
    json::Value connections(rapidjson::kArrayType);
    if (dev.last_seen_ts > 0 && !dev.last_seen_ip.empty()) {
      json::Value c(rapidjson::kObjectType);
      json::set(c, "ip", dev.last_seen_ip, a);
      json::set(c, "last_seen", dev.last_seen_ts, a);
      if (!dev.last_seen_user_agent.empty()) json::set(c, "user_agent", dev.last_seen_user_agent, a);
      connections.PushBack(std::move(c), a);
    }
    json::Value session(rapidjson::kObjectType);
    json::set(session, "connections", std::move(connections), a);
    json::Value sessions(rapidjson::kArrayType);
    sessions.PushBack(std::move(session), a);
    json::Value info(rapidjson::kObjectType);
    json::set(info, "sessions", std::move(sessions), a);
    json::set(devices, dev.device_id, std::move(info), a);
  }
  json::set(d, "user_id", u->user_id, a);
  json::set(d, "devices", std::move(devices), a);
  ex->reply_json(200, d);
}

// POST /_synapse/admin/v1/reset_password/{userId}
void reset_password(ServerContext& ctx, const http::ExchangePtr& ex) {
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto password = json::required_string(*body, "new_password");
  if (!password.ok()) return ex->reply_error(password.error());
  if (auto s = check_password(*password); !s.ok()) return ex->reply_error(s.error());
  auto logout = json::optional_bool(*body, "logout_devices");
  if (!logout.ok()) return ex->reply_error(logout.error());
  auto u = known_local_user(ctx, ex->params[0], "Can only reset the password of local users");
  if (!u.ok()) return ex->reply_error(u.error());
  set_password(ctx, u->user_id, *password, logout->value_or(true), std::nullopt,
               reply_empty(ex));
}

// POST /_synapse/admin/v1/deactivate/{userId}
void deactivate_user(ServerContext& ctx, const http::ExchangePtr& ex) {
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto erase = json::optional_bool(*body, "erase");
  if (!erase.ok()) return ex->reply_error(erase.error());
  if (erase->value_or(false)) {
    return ex->reply_error(Error::invalid_param("Erasing users is not supported"));
  }
  auto u = known_local_user(ctx, ex->params[0], "Can only deactivate local users");
  if (!u.ok()) return ex->reply_error(u.error());
  deactivate_account(ctx, u->user_id, [ex](Result<bool> r) {
    if (!r.ok()) return ex->reply_error(r.error());
    ex->reply_json(200, R"({"id_server_unbind_result":"no-support"})");
  });
}

}  // namespace

void register_admin_user_routes(http::Router& r, ServerContext& ctx) {
  r.add("GET", kV1 + "/server_version", [](auto& ex) { server_version(ex); });
  add_admin(r, ctx, "GET", kV2 + "/users", [&ctx](auto& ex, auto&) { list_users(ctx, ex); });
  add_admin(r, ctx, "GET", kV2 + "/users/{userId}",
            [&ctx](auto& ex, auto&) { get_user(ctx, ex); });
  add_admin(r, ctx, "PUT", kV2 + "/users/{userId}",
            [&ctx](auto& ex, auto& who) { put_user(ctx, ex, who); });
  add_admin(r, ctx, "GET", kV1 + "/users/{userId}/admin",
            [&ctx](auto& ex, auto&) { get_admin(ctx, ex); });
  add_admin(r, ctx, "PUT", kV1 + "/users/{userId}/admin",
            [&ctx](auto& ex, auto& who) { put_admin(ctx, ex, who); });
  add_authed(r, ctx, "GET", kV1 + "/whois/{userId}",
             [&ctx](auto& ex, auto& who) { whois(ctx, ex, who); });
  add_authed(r, ctx, "GET", v3("/admin/whois/{userId}"),
             [&ctx](auto& ex, auto& who) { whois(ctx, ex, who); });
  add_admin(r, ctx, "POST", kV1 + "/reset_password/{userId}",
            [&ctx](auto& ex, auto&) { reset_password(ctx, ex); });
  add_admin(r, ctx, "POST", kV1 + "/deactivate/{userId}",
            [&ctx](auto& ex, auto&) { deactivate_user(ctx, ex); });
}

}  // namespace haven::client
