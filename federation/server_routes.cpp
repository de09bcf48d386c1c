// Federation API: what this server is.
#include "federation/routes.h"
#include "homeserver/base/json.h"

#ifndef HAVEN_VERSION
#define HAVEN_VERSION "unknown"
#endif

namespace haven::federation {

void register_server_routes(http::Router& router) {
  // GET /_matrix/federation/v1/version
  router.add("GET", "/_matrix/federation/v1/version", [](const http::ExchangePtr& ex) {
    auto d = json::object();
    auto& a = d.GetAllocator();
    json::Value server(rapidjson::kObjectType);
    json::set(server, "name", "Haven", a);
    json::set(server, "version", HAVEN_VERSION, a);
    json::set(d, "server", std::move(server), a);
    ex->reply_json(200, d);
  });
}

}  // namespace haven::federation
