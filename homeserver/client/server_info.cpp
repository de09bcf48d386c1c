// Client-Server API: versions, well-known, capabilities.
#include "homeserver/client/routes.h"

namespace haven::client {

namespace {

// GET /_matrix/client/versions
// org.matrix.simplified_msc3575: native simplified sliding sync (MSC4186), which Element X and
// the other matrix-rust-sdk clients look for here.
void versions(ServerContext& ctx, const http::ExchangePtr& ex) {
  const bool delayed_events = ctx.config.delayed_events_max_delay_ms > 0;
  ex->reply_json(200, std::string(R"({"versions":["r0.6.1","v1.1","v1.2","v1.3","v1.4","v1.5",)"
                                  R"("v1.6","v1.7","v1.8","v1.9","v1.10","v1.11","v1.12"],)") +
                          R"("unstable_features":{"org.matrix.simplified_msc3575":true,)" +
                          R"("org.matrix.msc4140":)" + (delayed_events ? "true" : "false") + "}}");
}

// GET /.well-known/matrix/client
// No org.matrix.msc3575.proxy: that names a separate sliding sync proxy speaking the old MSC3575;
// clients find native sliding sync through /versions.
void well_known(ServerContext& ctx, const http::ExchangePtr& ex) {
  std::string base = ctx.config.public_baseurl;
  if (base.empty()) {
    base = "http://" + ctx.config.client_listener.bind_address + ":" +
           std::to_string(ctx.config.client_listener.port) + "/";
  }
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value hs(rapidjson::kObjectType);
  json::set(hs, "base_url", base, a);
  json::set(d, "m.homeserver", std::move(hs), a);
  ex->reply_json(200, d);
}

// GET /_matrix/client/v3/capabilities
void capabilities(ServerContext& ctx, const http::ExchangePtr& ex) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value caps(rapidjson::kObjectType);
  json::Value versions(rapidjson::kObjectType);
  json::set(versions, "default", ctx.config.default_room_version, a);
  json::Value available(rapidjson::kObjectType);
  for (const char* v : {"10", "11", "12"}) json::set(available, v, "stable", a);
  json::set(versions, "available", std::move(available), a);
  json::set(caps, "m.room_versions", std::move(versions), a);
  for (const char* name : {"m.change_password", "m.set_displayname", "m.set_avatar_url",
                           "m.3pid_changes", "m.get_login_token"}) {
    json::Value on(rapidjson::kObjectType);
    std::string_view n(name);
    bool enabled = n == "m.change_password" || n == "m.set_displayname" ||
                   n == "m.set_avatar_url" ||
                   (n == "m.3pid_changes" && ctx.config.email.enabled());  // needs mail to validate
    json::set(on, "enabled", enabled, a);
    json::set(caps, name, std::move(on), a);
  }
  if (ctx.config.delayed_events_max_delay_ms > 0) {
    json::Value delayed(rapidjson::kObjectType);
    json::set(delayed, "max_delay_ms", ctx.config.delayed_events_max_delay_ms, a);
    json::set(delayed, "max_scheduled", ctx.config.delayed_events_max_per_user, a);
    json::set(caps, "org.matrix.msc4140.delayed_events", std::move(delayed), a);
  }
  json::set(d, "capabilities", std::move(caps), a);
  ex->reply_json(200, d);
}

}  // namespace

void register_server_info_routes(http::Router& r, ServerContext& ctx) {
  r.add("GET", "/_matrix/client/versions", [&ctx](auto& ex) { versions(ctx, ex); });
  r.add("GET", "/.well-known/matrix/client", [&ctx](auto& ex) { well_known(ctx, ex); });
  add_authed(r, ctx, "GET", v3("/capabilities"),
             [&ctx](auto& ex, auto&) { capabilities(ctx, ex); });
}

}  // namespace haven::client
