#include "homeserver/client/common.h"

#include "appservices/appservices.h"
#include "homeserver/accounts/account_store.h"
#include "homeserver/client/guest_scope.h"
#include "homeserver/policy/care_store.h"
#include "homeserver/policy/care_rules.h"

namespace haven::client {

std::optional<std::string> access_token_of(const http::Exchange& ex) {
  if (auto h = ex.header("Authorization"); h) {
    constexpr std::string_view kBearer = "Bearer ";
    if (h->size() > kBearer.size() && h->compare(0, kBearer.size(), kBearer) == 0) {
      return h->substr(kBearer.size());
    }
  }
  return ex.query("access_token");
}

namespace {
constexpr int64_t kLastSeenResolutionMs = 60'000;

// The User-Agent header as stored for the admin API's whois: printable ASCII, bounded.
std::string user_agent_of(const http::Exchange& ex) {
  constexpr size_t kMaxUserAgentBytes = 512;
  std::string ua = ex.header("User-Agent").value_or("");
  if (ua.size() > kMaxUserAgentBytes) ua.resize(kMaxUserAgentBytes);
  for (char& c : ua) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return ua;
}

// Records when and from where (address, user agent) a device was last used, at most once a
// minute per device (guests: every request), so Element's session list is right without a write per request.
void note_device_seen(ServerContext& ctx, const accounts::Device& dev, const std::string& ip,
                      const std::string& user_agent, int64_t resolution_ms) {
  int64_t now = now_ms();
  if (now - dev.last_seen_ts < resolution_ms && dev.last_seen_ip == ip &&
      dev.last_seen_user_agent == user_agent) {
    return;
  }
  ctx.store->submit(
      [user = dev.user_id, device = dev.device_id, ip, user_agent, now](storage::WriteTxn& txn) {
        auto current = accounts::get_device(txn, user, device);
        if (!current) return storage::Status::ok_status();
        current->last_seen_ts = now;
        current->last_seen_ip = ip;
        current->last_seen_user_agent = user_agent;
        return accounts::put_device(txn, *current);
      },
      [](storage::Status) {});
}
}  // namespace

// The user (and device) an application service acts as on this request.
Result<Requester> authenticate_appservice(ServerContext& ctx, http::Exchange& ex,
                                          const appservice::AppService& service) {
  std::string user_id = ex.query("user_id").value_or(service.sender());
  if (!service.is_interested_in_user(user_id)) {
    return Error::forbidden("Application service cannot masquerade as this user");
  }
  auto txn = ctx.store->begin_read();
  auto user = accounts::get_user(*txn, user_id);
  if (!user || user->deactivated) {
    return Error::forbidden("Application service has not registered this user");
  }
  // device_id (Matrix 1.17, MSC4326); MSC3202's unstable name too.
  auto device_id = ex.query("device_id");
  if (!device_id) device_id = ex.query("org.matrix.msc3202.device_id");
  if (device_id && !accounts::get_device(*txn, user_id, *device_id)) {
    return Error::with(400, "M_UNKNOWN_DEVICE", "No such device for this user");
  }
  ex.user_id = user_id;
  bool operator_api = service.registration().operator_api && user_id == service.sender();
  Requester who{user_id, device_id.value_or(""), user->admin || operator_api, false, ctx.care};
  who.appservice = &service;
  who.rate_limited = service.registration().rate_limited && user_id != service.sender();
  return who;
}

const appservice::AppService* appservice_of_token(ServerContext& ctx, std::string_view token) {
  if (!ctx.appservices) return nullptr;
  return ctx.appservices->registry().by_as_token(token);
}

Result<Requester> authenticate(ServerContext& ctx, http::Exchange& ex) {
  auto token = access_token_of(ex);
  if (!token || token->empty()) return Error::missing_token("Missing access token");
  if (token->size() > 1024) return Error::unknown_token("Unknown access token");
  if (const auto* service = appservice_of_token(ctx, *token)) {
    return authenticate_appservice(ctx, ex, *service);
  }
  auto txn = ctx.store->begin_read();
  auto owner = accounts::lookup_token(*txn, *token);
  if (!owner) {
    auto e = Error::unknown_token("Unknown access token");
    e.extra_json = "\"soft_logout\":false";
    return e;
  }
  if (owner->expires_ts != 0 && owner->expires_ts < now_ms()) {
    auto e = Error::unknown_token("Access token has expired");
    e.extra_json = "\"soft_logout\":true";
    return e;
  }
  auto user = accounts::get_user(*txn, owner->user_id);
  if (!user || user->deactivated) {
    auto e = Error::unknown_token("Unknown access token");
    e.extra_json = "\"soft_logout\":false";
    return e;
  }
  ex.user_id = owner->user_id;
  // A guest's every request counts: haven-care removes guests after an hour without one.
  std::optional<std::string> guest_room;
  if (ctx.care) guest_room = policy::guest_room(*txn, owner->user_id);
  if (auto dev = accounts::get_device(*txn, owner->user_id, owner->device_id); dev) {
    note_device_seen(ctx, *dev, ex.peer_address(), user_agent_of(ex),
                     guest_room ? 0 : kLastSeenResolutionMs);
  }
  if (guest_room && !guest_may_request(ex.path(), owner->user_id, *guest_room)) {
    return Error::forbidden("A guest can only take part in the conversation of their guest link");
  }
  Requester who{owner->user_id, owner->device_id, user->admin, user->is_guest, ctx.care};
  if (guest_room) who.guest_room = std::move(*guest_room);
  return who;
}

Result<json::Document> parse_body(ServerContext& ctx, const http::Exchange& ex) {
  if (ex.body().size() > ctx.config.max_request_body_bytes) {
    return Error::too_large("Request body is larger than " +
                            std::to_string(ctx.config.max_request_body_bytes) + " bytes");
  }
  if (ex.body().empty()) return json::object();
  return json::parse_object(ex.body(), ctx.config.max_json_depth);
}

void add_authed(http::Router& router, ServerContext& ctx, const std::string& method,
                const std::string& path, AuthedHandler handler) {
  router.add(method, path, [&ctx, handler = std::move(handler)](const http::ExchangePtr& ex) {
    auto who = authenticate(ctx, *ex);
    if (!who.ok()) {
      ex->reply_error(who.error());
      return;
    }
    handler(ex, who.value());
  });
}

void add_admin(http::Router& router, ServerContext& ctx, const std::string& method,
               const std::string& path, AuthedHandler handler) {
  add_authed(router, ctx, method, path,
             [handler = std::move(handler)](const http::ExchangePtr& ex, const Requester& who) {
               if (!who.admin)
                 return ex->reply_error(Error::forbidden("You are not a server admin"));
               handler(ex, who);
             });
}

std::function<void(Result<bool>)> reply_empty(const http::ExchangePtr& ex) {
  return [ex](Result<bool> r) {
    if (!r.ok()) return ex->reply_error(r.error());
    ex->reply_json(200, "{}");
  };
}

std::string v3(const std::string& rest) { return "/_matrix/client/v3" + rest; }

rooms::LocalServer local_server(const ServerContext& ctx) {
  return rooms::LocalServer{ctx.server_name, ctx.signing_key, ctx.care, ctx.outbound};
}

}  // namespace haven::client
