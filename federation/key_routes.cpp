// Federation API: this server's keys, and other servers' keys as a notary (co-signed).
#include <cerrno>
#include <cstdlib>
#include <memory>

#include "crypto/json_signing.h"
#include "federation/resolver.h"
#include "federation/routes.h"
#include "homeserver/base/json.h"

namespace haven::federation {
namespace {

constexpr size_t kMaxServersPerQuery = 100;

// One server asked about, and the least valid_until_ts its keys should have.
struct KeyQuery {
  std::string server;
  int64_t min_valid_until_ts = 0;
};

// Answers {"server_keys": [...]} with every key object of `queries` this server can vouch
// for, each co-signed with this server's key.
void answer_key_queries(const http::ExchangePtr& ex, KeyRing& keys, const ServerAllowList& allowed,
                        std::vector<KeyQuery> queries) {
  std::erase_if(queries, [&](const KeyQuery& q) {
    return q.server != keys.own_name() && !allowed.allows(q.server);
  });
  struct Pending {
    size_t remaining = 0;
    std::vector<std::string> objects;
  };
  auto pending = std::make_shared<Pending>();
  pending->remaining = queries.size();
  auto finish = [ex, &keys, pending] {
    auto d = json::object();
    auto& a = d.GetAllocator();
    json::Value list(rapidjson::kArrayType);
    for (const std::string& text : pending->objects) {
      json::Document object = json::parse_trusted(text);
      if (!object.IsObject()) continue;
      json::Value copy(object, a);
      if (!crypto::sign_json(copy, a, keys.own_name(), keys.own_key())) continue;
      list.PushBack(std::move(copy), a);
    }
    json::set(d, "server_keys", std::move(list), a);
    ex->reply_json(200, d);
  };
  if (queries.empty()) return finish();
  for (const KeyQuery& q : queries) {
    keys.key_objects(q.server, q.min_valid_until_ts,
                     [pending, finish](std::vector<std::string> objects) {
                       for (auto& o : objects) pending->objects.push_back(std::move(o));
                       if (--pending->remaining == 0) finish();
                     });
  }
}

// The body of POST /_matrix/key/v2/query as queries.
Result<std::vector<KeyQuery>> parse_key_query(const json::Value& body) {
  auto servers = json::required_object(body, "server_keys");
  if (!servers.ok()) return std::move(servers).error();
  if ((*servers)->MemberCount() > kMaxServersPerQuery) {
    return Error::invalid_param("At most 100 servers may be queried at once");
  }
  std::vector<KeyQuery> out;
  for (const auto& server : (*servers)->GetObject()) {
    if (!server.value.IsObject()) return Error::bad_json("server_keys values must be objects");
    KeyQuery query{std::string(server.name.GetString(), server.name.GetStringLength()), now_ms()};
    for (const auto& criteria : server.value.GetObject()) {
      if (!criteria.value.IsObject()) return Error::bad_json("Key criteria must be objects");
      auto min = json::optional_int(criteria.value, "minimum_valid_until_ts");
      if (!min.ok()) return std::move(min).error();
      if (*min) query.min_valid_until_ts = std::max(query.min_valid_until_ts, **min);
    }
    if (split_server_name(query.server)) out.push_back(std::move(query));
  }
  return out;
}

}  // namespace

void register_key_routes(http::Router& router, KeyRing& keys, const ServerAllowList& allowed,
                         int max_json_depth) {
  // GET /_matrix/key/v2/server
  router.add("GET", "/_matrix/key/v2/server",
             [&keys](const http::ExchangePtr& ex) { ex->reply_json(200, keys.own_key_object()); });

  // GET /_matrix/key/v2/query/{serverName}
  router.add("GET", "/_matrix/key/v2/query/{serverName}",
             [&keys, &allowed](const http::ExchangePtr& ex) {
               const std::string& server = ex->params[0];
               if (!split_server_name(server)) {
                 return ex->reply_error(Error::invalid_param("Not a valid server name"));
               }
               KeyQuery query{server, now_ms()};
               if (auto min = ex->query("minimum_valid_until_ts")) {
                 char* end = nullptr;
                 errno = 0;
                 const long long value = std::strtoll(min->c_str(), &end, 10);
                 if (min->empty() || *end != '\0' || errno == ERANGE) {
                   return ex->reply_error(
                       Error::invalid_param("minimum_valid_until_ts must be an integer"));
                 }
                 query.min_valid_until_ts = value;
               }
               answer_key_queries(ex, keys, allowed, {query});
             });

  // POST /_matrix/key/v2/query
  router.add("POST", "/_matrix/key/v2/query",
             [&keys, &allowed, max_json_depth](const http::ExchangePtr& ex) {
               auto body = json::parse_object(ex->body(), max_json_depth);
               if (!body.ok()) return ex->reply_error(body.error());
               auto queries = parse_key_query(*body);
               if (!queries.ok()) return ex->reply_error(queries.error());
               answer_key_queries(ex, keys, allowed, std::move(*queries));
             });
}

}  // namespace haven::federation
