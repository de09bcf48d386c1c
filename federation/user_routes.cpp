// Federation API: this server's users' devices and keys, for other servers' clients.
#include "federation/device_announce.h"
#include "federation/routes.h"
#include "homeserver/accounts/account_store.h"
#include "homeserver/base/json.h"
#include "homeserver/base/write.h"
#include "homeserver/e2ee/device_keys.h"
#include "homeserver/e2ee/key_query.h"
#include "homeserver/rooms/ids.h"

namespace haven::federation {

namespace {

// Generous but finite, as for the client API's own queries.
constexpr size_t kMaxQueriedUsers = 1000;
constexpr size_t kMaxClaims = 1000;

bool is_local_user(const std::string& user_id, const conf::Config& config) {
  return rooms::is_valid_user_id(user_id) && rooms::server_name_of(user_id) == config.server_name;
}

std::string_view view(const json::Value& v) { return {v.GetString(), v.GetStringLength()}; }

// GET /_matrix/federation/v1/user/devices/{userId}
void user_devices(const http::ExchangePtr& ex, storage::Store& store, const conf::Config& config) {
  const std::string& user_id = ex->params.at(0);
  if (!is_local_user(user_id, config)) {
    return ex->reply_error(Error::invalid_param("user_id is not a user of this server"));
  }
  auto txn = store.begin_read();
  if (!txn) return ex->reply_error(Error::unknown("Storage is busy"));
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "user_id", user_id, a);
  json::set(d, "stream_id", static_cast<int64_t>(announced_stream_id(*txn, user_id)), a);
  json::Value keys = e2ee::local_device_keys(*txn, user_id, {}, "", a);
  json::Value devices(rapidjson::kArrayType);
  for (const auto& device : accounts::list_devices(*txn, user_id)) {
    json::Value entry(rapidjson::kObjectType);
    json::set(entry, "device_id", device.device_id, a);
    if (!device.display_name.empty()) {
      json::set(entry, "device_display_name", device.display_name, a);
    }
    if (auto it = keys.FindMember(device.device_id.c_str()); it != keys.MemberEnd()) {
      json::Value k;
      k.CopyFrom(it->value, a);
      json::set(entry, "keys", std::move(k), a);
    }
    devices.PushBack(std::move(entry), a);
  }
  json::set(d, "devices", std::move(devices), a);
  json::Value cross(rapidjson::kObjectType);
  e2ee::add_local_cross_signing_keys(*txn, cross, user_id, "", a);
  for (auto [field, name] : {std::pair{"master_keys", "master_key"},
                             std::pair{"self_signing_keys", "self_signing_key"}}) {
    auto it = cross.FindMember(field);
    if (it == cross.MemberEnd()) continue;
    json::Value k;
    k.CopyFrom(it->value[user_id.c_str()], a);
    json::set(d, name, std::move(k), a);
  }
  ex->reply_json(200, d);
}

// POST /_matrix/federation/v1/user/keys/query
void user_keys_query(const http::ExchangePtr& ex, storage::Store& store,
                     const conf::Config& config) {
  auto body = json::parse_object(ex->body(), config.max_json_depth);
  if (!body.ok()) return ex->reply_error(body.error());
  auto wanted = json::required_object(*body, "device_keys");
  if (!wanted.ok()) return ex->reply_error(wanted.error());
  if ((*wanted)->MemberCount() > kMaxQueriedUsers) {
    return ex->reply_error(Error::too_large("Query is too large"));
  }
  auto txn = store.begin_read();
  if (!txn) return ex->reply_error(Error::unknown("Storage is busy"));
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "device_keys", json::Value(rapidjson::kObjectType), a);
  for (const auto& m : (*wanted)->GetObject()) {
    if (!m.value.IsArray()) return ex->reply_error(Error::bad_json("Device lists must be arrays"));
    std::string user_id(view(m.name));
    if (!is_local_user(user_id, config)) continue;  // not ours to answer for
    std::set<std::string> devices;
    for (const auto& id : m.value.GetArray()) {
      if (!id.IsString()) return ex->reply_error(Error::bad_json("Device ids must be strings"));
      devices.emplace(view(id));
    }
    json::set(d["device_keys"], user_id, e2ee::local_device_keys(*txn, user_id, devices, "", a),
              a);
    e2ee::add_local_cross_signing_keys(*txn, d, user_id, "", a);
  }
  ex->reply_json(200, d);
}

struct Claim {
  std::string user_id;
  std::string device_id;
  std::string algorithm;
};

// POST /_matrix/federation/v1/user/keys/claim
void user_keys_claim(const http::ExchangePtr& ex, storage::Store& store,
                     const conf::Config& config) {
  auto body = json::parse_object(ex->body(), config.max_json_depth);
  if (!body.ok()) return ex->reply_error(body.error());
  auto wanted = json::required_object(*body, "one_time_keys");
  if (!wanted.ok()) return ex->reply_error(wanted.error());
  std::vector<Claim> claims;
  for (const auto& u : (*wanted)->GetObject()) {
    if (!u.value.IsObject()) return ex->reply_error(Error::bad_json("Expected device maps"));
    std::string user_id(view(u.name));
    for (const auto& dev : u.value.GetObject()) {
      if (!dev.value.IsString()) return ex->reply_error(Error::bad_json("Expected algorithms"));
      if (claims.size() >= kMaxClaims) {
        return ex->reply_error(Error::too_large("Too many keys claimed at once"));
      }
      std::string device_id(view(dev.name));
      std::string algorithm(view(dev.value));
      if (!is_local_user(user_id, config) || device_id.find('\0') != std::string::npos ||
          algorithm.find('\0') != std::string::npos) {
        continue;
      }
      claims.push_back({user_id, device_id, algorithm});
    }
  }
  using Claimed = std::vector<std::pair<Claim, e2ee::ClaimedKey>>;
  write<Claimed>(
      store,
      [claims = std::move(claims)](storage::WriteTxn& txn) -> Result<Claimed> {
        Claimed out;
        for (const Claim& c : claims) {
          storage::Status status;
          auto key = e2ee::claim_key(txn, c.user_id, c.device_id, c.algorithm, &status);
          HAVEN_TRY(check(status));
          if (key) out.emplace_back(c, std::move(*key));
        }
        return out;
      },
      [ex](Result<Claimed> r) {
        if (!r.ok()) return ex->reply_error(r.error());
        auto d = json::object();
        auto& a = d.GetAllocator();
        json::Value users(rapidjson::kObjectType);
        for (const auto& [claim, key] : *r) {
          auto user = users.FindMember(claim.user_id.c_str());
          if (user == users.MemberEnd()) {
            json::set(users, claim.user_id, json::Value(rapidjson::kObjectType), a);
            user = users.FindMember(claim.user_id.c_str());
          }
          json::Value device(rapidjson::kObjectType);
          auto parsed = json::parse_trusted(key.json);
          json::Value k;
          k.CopyFrom(parsed, a);
          json::set(device, key.full_key_id, std::move(k), a);
          json::set(user->value, claim.device_id, std::move(device), a);
        }
        json::set(d, "one_time_keys", std::move(users), a);
        ex->reply_json(200, d);
      });
}

}  // namespace

void register_user_routes(http::Router& router, RequestVerifier& verifier, storage::Store& store,
                          const conf::Config& config) {
  verifier.add_route(router, "GET", "/_matrix/federation/v1/user/devices/{userId}",
                     [&store, &config](const http::ExchangePtr& ex, const std::string&) {
                       user_devices(ex, store, config);
                     });
  verifier.add_route(router, "POST", "/_matrix/federation/v1/user/keys/query",
                     [&store, &config](const http::ExchangePtr& ex, const std::string&) {
                       user_keys_query(ex, store, config);
                     });
  verifier.add_route(router, "POST", "/_matrix/federation/v1/user/keys/claim",
                     [&store, &config](const http::ExchangePtr& ex, const std::string&) {
                       user_keys_claim(ex, store, config);
                     });
}

}  // namespace haven::federation
