// Client-Server API: end-to-end encryption keys (upload, query, claim, changes) and
// cross-signing (device_signing/upload, signatures/upload). Remote users' keys are asked of
// their servers (one request per server, e2ee::RemoteKeys); a server that does not answer
// lands in "failures".
#include "homeserver/client/keys.h"

#include "appservices/appservices.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "crypto/base64.h"
#include "crypto/canonical_json.h"
#include "crypto/json_signing.h"
#include "homeserver/accounts/account_store.h"
#include "homeserver/base/write.h"
#include "homeserver/client/routes.h"
#include "homeserver/client/uia.h"
#include "homeserver/e2ee/cross_signing.h"
#include "homeserver/e2ee/device_keys.h"
#include "homeserver/e2ee/device_lists.h"
#include "homeserver/e2ee/key_query.h"
#include "homeserver/e2ee/remote_device_cache.h"
#include "homeserver/e2ee/remote_keys.h"
#include "homeserver/rooms/outbound.h"
#include "homeserver/rooms/room_access.h"
#include "homeserver/sync/notifier.h"
#include "homeserver/sync/sync_token.h"

namespace haven::client {

namespace {

// Generous but finite: real clients upload ~50 one-time keys and query a few hundred users.
constexpr size_t kMaxKeysPerUpload = 1000;
constexpr size_t kMaxKeyBytes = 64 * 1024;
constexpr int64_t kMaxOneTimeKeysPerAlgorithm = 10000;
constexpr size_t kMaxQueriedDevices = 10000;
constexpr size_t kMaxClaims = 1000;
constexpr size_t kMaxSignedKeys = 1000;

const char* const kUsages[] = {"master", "self_signing", "user_signing"};

std::string server_of(const std::string& user_id) {
  auto colon = user_id.find(':');
  return colon == std::string::npos ? std::string() : user_id.substr(colon + 1);
}

bool is_local(ServerContext& ctx, const std::string& user_id) {
  return !user_id.empty() && user_id[0] == '@' && server_of(user_id) == ctx.server_name;
}

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

std::string_view view(const json::Value& v) { return {v.GetString(), v.GetStringLength()}; }

Error invalid_signature(std::string m) { return Error::with(400, "M_INVALID_SIGNATURE", m); }

json::Value copy_stored(std::string_view text, json::Alloc& a) {
  json::Document parsed = json::parse_trusted(text);
  return json::Value(parsed, a);
}

json::Value error_object(const Error& e, json::Alloc& a) {
  json::Value v(rapidjson::kObjectType);
  json::set(v, "errcode", e.errcode, a);
  json::set(v, "error", e.message, a);
  return v;
}

// Member `key` of `obj`, created as an empty object when absent.
json::Value& child(json::Value& obj, std::string_view key, json::Alloc& a) {
  auto it = obj.FindMember(json::Value(rapidjson::StringRef(key.data(), key.size())));
  if (it != obj.MemberEnd()) return it->value;
  json::set(obj, key, json::Value(rapidjson::kObjectType), a);
  return obj.FindMember(json::Value(rapidjson::StringRef(key.data(), key.size())))->value;
}

// The "failures" entry for a server we cannot ask or that did not answer.
json::Value unreachable(json::Alloc& a, const std::string& why) {
  json::Value v(rapidjson::kObjectType);
  json::set(v, "status", 503, a);
  json::set(v, "message", why, a);
  return v;
}

constexpr const char* kNoFederation = "Federation is not available on this server";
constexpr int64_t kDefaultRemoteTimeoutMs = 10'000;
constexpr int64_t kMaxRemoteTimeoutMs = 60'000;

// The request's "timeout" for remote servers, within bounds.
Result<int64_t> remote_timeout(const json::Value& body) {
  auto t = json::optional_int(body, "timeout");
  if (!t.ok()) return std::move(t).error();
  if (!*t) return kDefaultRemoteTimeoutMs;
  return std::clamp<int64_t>(**t, 1'000, kMaxRemoteTimeoutMs);
}

// Copies `from[field][user]` into `to[field][user]` for each user of `server` in `from`: what a
// server says about its own users, and nothing about anyone else's.
void merge_remote_users(json::Value& to, const json::Value& from, const char* field,
                        const std::string& server, json::Alloc& a) {
  auto it = from.FindMember(field);
  if (it == from.MemberEnd() || !it->value.IsObject()) return;
  for (const auto& m : it->value.GetObject()) {
    std::string user_id(view(m.name));
    if (server_of(user_id) != server || user_id.empty() || user_id[0] != '@') continue;
    if (!m.value.IsObject()) continue;
    json::Value copy;
    copy.CopyFrom(m.value, a);
    json::set(child(to, field, a), user_id, std::move(copy), a);
  }
}

// A remote user's keys from the device-list cache (kept fresh by their server's updates), as
// their server would have answered; `wanted` lists device ids (all when empty).
void add_cached_keys(json::Document& d, const std::string& user_id, const json::Value& cached,
                     const json::Value& wanted) {
  auto& a = d.GetAllocator();
  std::set<std::string> devices;
  for (const auto& id : wanted.GetArray()) devices.emplace(view(id));
  json::Value user_devices(rapidjson::kObjectType);
  if (auto it = cached.FindMember("devices"); it != cached.MemberEnd() && it->value.IsObject()) {
    for (const auto& m : it->value.GetObject()) {
      if (!m.value.IsObject() || m.value.ObjectEmpty()) continue;  // a device without keys
      if (!devices.empty() && !devices.count(std::string(view(m.name)))) continue;
      json::Value keys;
      keys.CopyFrom(m.value, a);
      json::set(user_devices, view(m.name), std::move(keys), a);
    }
  }
  json::set(d["device_keys"], user_id, std::move(user_devices), a);
  for (auto [field, name] : {std::pair{"master_keys", "master_key"},
                             std::pair{"self_signing_keys", "self_signing_key"}}) {
    auto it = cached.FindMember(name);
    if (it == cached.MemberEnd() || !it->value.IsObject()) continue;
    json::Value key;
    key.CopyFrom(it->value, a);
    json::set(child(d, field, a), user_id, std::move(key), a);
  }
}

// Asks each server in `bodies` (POST `path`), merges their answers into `d` with `merge`, and
// records the servers that did not answer in d["failures"]; then replies.
void ask_servers_then_reply(ServerContext& ctx, const http::ExchangePtr& ex,
                            std::shared_ptr<json::Document> d, const std::string& path,
                            std::map<std::string, std::string> bodies, int64_t timeout_ms,
                            std::function<void(json::Document&, const std::string& server,
                                               const json::Value& answer)> merge) {
  if (bodies.empty()) return ex->reply_json(200, *d);
  if (!ctx.remote_keys) {
    for (const auto& [server, body] : bodies) {
      json::set((*d)["failures"], server, unreachable(d->GetAllocator(), kNoFederation),
                d->GetAllocator());
    }
    return ex->reply_json(200, *d);
  }
  ctx.remote_keys->post_to_servers(
      path, std::move(bodies), timeout_ms, [ex, d, merge](e2ee::RemoteKeys::Answers answers) {
        auto& a = d->GetAllocator();
        for (auto& [server, answer] : answers) {
          if (answer.ok()) {
            auto parsed = json::parse_object(*answer);
            if (parsed.ok()) {
              merge(*d, server, *parsed);
              continue;
            }
          }
          std::string why = answer.ok() ? "Invalid answer" : answer.error().message;
          json::set((*d)["failures"], server, unreachable(a, why), a);
        }
        ex->reply_json(200, *d);
      });
}

// The raw ed25519 key named "ed25519:<device_id>" in signed device keys, or nullopt.
std::optional<std::string> device_signing_key(const json::Value& device_keys,
                                              const std::string& device_id) {
  if (!device_keys.IsObject()) return std::nullopt;
  auto keys = device_keys.FindMember("keys");
  if (keys == device_keys.MemberEnd() || !keys->value.IsObject()) return std::nullopt;
  std::string id = "ed25519:" + device_id;
  auto k = keys->value.FindMember(id.c_str());
  if (k == keys->value.MemberEnd() || !k->value.IsString()) return std::nullopt;
  auto raw = crypto::base64_decode(view(k->value));
  if (!raw || raw->size() != 32) return std::nullopt;
  return raw;
}

// Canonical JSON of a key object as it is signed (no "signatures", no "unsigned").
std::string signed_part(const json::Value& key) {
  return crypto::canonical_json_excluding(key, {"signatures", "unsigned"}).value_or("");
}

// --- typed requests ------------------------------------------------------------------------

// "one_time_keys" / "fallback_keys": {"<algorithm>:<key_id>": string or object}.
Result<std::vector<e2ee::KeyEntry>> parse_key_map(const json::Value& body, const char* field,
                                                  bool one_per_algorithm) {
  std::vector<e2ee::KeyEntry> out;
  auto obj = json::optional_object(body, field);
  if (!obj.ok()) return obj.error();
  if (*obj == nullptr) return out;
  if ((*obj)->MemberCount() > kMaxKeysPerUpload) {
    return Error::too_large(std::string(field) + " holds more than " +
                            std::to_string(kMaxKeysPerUpload) + " keys");
  }
  std::set<std::string> algorithms;
  for (const auto& m : (*obj)->GetObject()) {
    std::string name(view(m.name));
    auto colon = name.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == name.size() || has_nul(name)) {
      return Error::invalid_param("Key names must be <algorithm>:<key_id>: " + name);
    }
    if (!m.value.IsString() && !m.value.IsObject()) {
      return Error::invalid_param("Key " + name + " must be a string or an object");
    }
    auto text = crypto::canonical_json(m.value);
    if (!text) return Error::invalid_param("Key " + name + " is not valid canonical JSON");
    if (text->size() > kMaxKeyBytes) return Error::too_large("Key " + name + " is too large");
    e2ee::KeyEntry entry{name.substr(0, colon), name.substr(colon + 1), std::move(*text)};
    if (one_per_algorithm && !algorithms.insert(entry.algorithm).second) {
      return Error::invalid_param("At most one fallback key per algorithm");
    }
    out.push_back(std::move(entry));
  }
  return out;
}

// "device_keys": the requester's own device, self-signed. Returns its canonical JSON text.
Result<std::optional<std::string>> parse_device_keys(const json::Value& body,
                                                     const Requester& who) {
  auto obj = json::optional_object(body, "device_keys");
  if (!obj.ok()) return obj.error();
  if (*obj == nullptr) return std::optional<std::string>();
  const json::Value& keys = **obj;
  auto user_id = json::required_string(keys, "user_id");
  auto device_id = json::required_string(keys, "device_id");
  if (!user_id.ok()) return user_id.error();
  if (!device_id.ok()) return device_id.error();
  if (*user_id != who.user_id || *device_id != who.device_id) {
    return Error::invalid_param("device_keys must be for the requesting user and device");
  }
  auto algorithms = json::optional_string_list(keys, "algorithms");
  if (!algorithms.ok()) return algorithms.error();
  if (!algorithms->has_value()) return Error::missing_param("device_keys: missing algorithms");
  auto key_map = json::required_object(keys, "keys");
  if (!key_map.ok()) return key_map.error();
  for (const auto& m : (*key_map)->GetObject()) {
    if (!m.value.IsString()) return Error::invalid_param("device_keys: keys must be strings");
  }
  auto signing_key = device_signing_key(keys, who.device_id);
  if (!signing_key) {
    return Error::invalid_param("device_keys: missing ed25519:" + who.device_id + " key");
  }
  if (!crypto::verify_json(keys, who.user_id, "ed25519:" + who.device_id, *signing_key)) {
    return invalid_signature("device_keys are not signed by the device's ed25519 key");
  }
  auto text = crypto::canonical_json_excluding(keys, {"unsigned"});
  if (!text) return Error::invalid_param("device_keys is not valid canonical JSON");
  if (text->size() > kMaxKeyBytes) return Error::too_large("device_keys is too large");
  return std::optional<std::string>(std::move(*text));
}

json::Value counts_json(const std::map<std::string, int64_t>& counts, json::Alloc& a) {
  json::Value v(rapidjson::kObjectType);
  for (const auto& [alg, n] : counts) json::set(v, alg, n, a);
  return v;
}

// --- handlers ------------------------------------------------------------------------------

struct UploadOutcome {
  bool list_changed = false;
  std::map<std::string, int64_t> counts;
};

// POST /_matrix/client/v3/keys/upload
void upload_keys(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  if (who.device_id.empty()) {  // an application service that named no device_id
    return ex->reply_error(Error::invalid_param("Keys belong to a device: name it with device_id"));
  }
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto device_keys = parse_device_keys(*body, who);
  if (!device_keys.ok()) return ex->reply_error(device_keys.error());
  auto one_time = parse_key_map(*body, "one_time_keys", false);
  if (!one_time.ok()) return ex->reply_error(one_time.error());
  auto fallback = parse_key_map(*body, "fallback_keys", true);
  if (!fallback.ok()) return ex->reply_error(fallback.error());
  write<UploadOutcome>(
      *ctx.store,
      [who, dk = std::move(*device_keys), otks = std::move(*one_time),
       fbs = std::move(*fallback)](storage::WriteTxn& txn) -> Result<UploadOutcome> {
        UploadOutcome out;
        if (dk) {
          auto existing = e2ee::get_device_keys(txn, who.user_id, who.device_id);
          if (existing && *existing != *dk) {
            return Error::invalid_param(
                "This device already has identity keys; they cannot be replaced");
          }
          if (!existing) {
            HAVEN_TRY(check(e2ee::put_device_keys(txn, who.user_id, who.device_id, *dk)));
            out.list_changed = true;
          }
        }
        HAVEN_TRY(e2ee::add_one_time_keys(txn, who.user_id, who.device_id, otks));
        for (const auto& fb : fbs) {
          HAVEN_TRY(check(e2ee::put_fallback_key(txn, who.user_id, who.device_id, fb)));
        }
        out.counts = e2ee::one_time_key_counts(txn, who.user_id, who.device_id);
        for (const auto& [alg, n] : out.counts) {
          if (n > kMaxOneTimeKeysPerAlgorithm) {
            return Error::too_large("Too many unclaimed one-time keys of " + alg);
          }
        }
        if (out.list_changed) {
          HAVEN_TRY(check(e2ee::mark_device_list_changed(txn, who.user_id)));
        }
        return out;
      },
      [&ctx, ex, who](Result<UploadOutcome> r) {
        if (!r.ok()) return ex->reply_error(r.error());
        if (r->list_changed) notify_device_list_changed(ctx, who.user_id);
        auto d = json::object();
        json::set(d, "one_time_key_counts", counts_json(r->counts, d.GetAllocator()),
                  d.GetAllocator());
        ex->reply_json(200, d);
      });
}

// POST /_matrix/client/v3/keys/query
void query_keys(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto wanted = json::required_object(*body, "device_keys");
  if (!wanted.ok()) return ex->reply_error(wanted.error());
  size_t total = 0;
  for (const auto& m : (*wanted)->GetObject()) {
    if (!m.value.IsArray()) return ex->reply_error(Error::bad_json("Device lists must be arrays"));
    for (const auto& id : m.value.GetArray()) {
      if (!id.IsString()) return ex->reply_error(Error::bad_json("Device ids must be strings"));
    }
    total += 1 + m.value.Size();
  }
  if (total > kMaxQueriedDevices) return ex->reply_error(Error::too_large("Query is too large"));
  auto timeout_ms = remote_timeout(*body);
  if (!timeout_ms.ok()) return ex->reply_error(timeout_ms.error());
  auto d = std::make_shared<json::Document>(json::object());
  auto& a = d->GetAllocator();
  json::set(*d, "device_keys", json::Value(rapidjson::kObjectType), a);
  json::set(*d, "failures", json::Value(rapidjson::kObjectType), a);
  auto txn = ctx.store->begin_read();
  if (!txn) return ex->reply_error(Error::unknown("Storage is busy"));
  std::map<std::string, json::Document> remote;  // server -> its /user/keys/query body
  for (const auto& m : (*wanted)->GetObject()) {
    std::string user_id(view(m.name));
    if (!is_local(ctx, user_id)) {
      std::string server = server_of(user_id);
      if (server.empty() || user_id[0] != '@') continue;
      if (auto cached = e2ee::cached_device_list(*txn, user_id)) {
        add_cached_keys(*d, user_id, *cached, m.value);
        continue;
      }
      auto [it, fresh] = remote.try_emplace(server, json::object());
      auto& ra = it->second.GetAllocator();
      if (fresh) json::set(it->second, "device_keys", json::Value(rapidjson::kObjectType), ra);
      json::Value devices;
      devices.CopyFrom(m.value, ra);
      json::set(it->second["device_keys"], user_id, std::move(devices), ra);
      continue;
    }
    std::set<std::string> devices;
    for (const auto& id : m.value.GetArray()) devices.emplace(view(id));
    json::set((*d)["device_keys"], user_id,
              e2ee::local_device_keys(*txn, user_id, devices, who.user_id, a), a);
    e2ee::add_local_cross_signing_keys(*txn, *d, user_id, who.user_id, a);
  }
  txn.reset();
  std::map<std::string, std::string> bodies;
  for (auto& [server, doc] : remote) bodies.emplace(server, json::to_string(doc));
  ask_servers_then_reply(
      ctx, ex, d, "/_matrix/federation/v1/user/keys/query", std::move(bodies), *timeout_ms,
      [](json::Document& out, const std::string& server, const json::Value& answer) {
        auto& oa = out.GetAllocator();
        for (const char* field : {"device_keys", "master_keys", "self_signing_keys"}) {
          merge_remote_users(out, answer, field, server, oa);
        }
      });
}

struct Claim {
  std::string user_id;
  std::string device_id;
  std::string algorithm;
};
struct Claimed {
  std::string user_id;
  std::string device_id;
  e2ee::ClaimedKey key;
};

// POST /_matrix/client/v3/keys/claim
void claim_keys(ServerContext& ctx, const http::ExchangePtr& ex, const Requester&) {
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto wanted = json::required_object(*body, "one_time_keys");
  if (!wanted.ok()) return ex->reply_error(wanted.error());
  auto timeout_ms = remote_timeout(*body);
  if (!timeout_ms.ok()) return ex->reply_error(timeout_ms.error());
  std::vector<Claim> claims;
  std::map<std::string, json::Document> remote;  // server -> its /user/keys/claim body
  size_t remote_claims = 0;
  for (const auto& u : (*wanted)->GetObject()) {
    if (!u.value.IsObject()) return ex->reply_error(Error::bad_json("Expected device maps"));
    std::string user_id(view(u.name));
    for (const auto& dev : u.value.GetObject()) {
      if (!dev.value.IsString()) return ex->reply_error(Error::bad_json("Expected algorithms"));
      if (claims.size() + remote_claims >= kMaxClaims) {
        return ex->reply_error(Error::too_large("Too many keys claimed at once"));
      }
      if (!is_local(ctx, user_id)) {
        std::string server = server_of(user_id);
        if (server.empty() || user_id[0] != '@') continue;
        auto [it, fresh] = remote.try_emplace(server, json::object());
        auto& ra = it->second.GetAllocator();
        if (fresh) json::set(it->second, "one_time_keys", json::Value(rapidjson::kObjectType), ra);
        json::set(child(it->second["one_time_keys"], user_id, ra), view(dev.name),
                  json::str(view(dev.value), ra), ra);
        ++remote_claims;
        continue;
      }
      std::string device_id(view(dev.name));
      std::string algorithm(view(dev.value));
      if (has_nul(device_id) || has_nul(algorithm)) continue;
      claims.push_back({user_id, device_id, algorithm});
    }
  }
  std::map<std::string, std::string> bodies;
  for (auto& [server, doc] : remote) bodies.emplace(server, json::to_string(doc));
  write<std::vector<Claimed>>(
      *ctx.store,
      [claims = std::move(claims)](storage::WriteTxn& txn) -> Result<std::vector<Claimed>> {
        std::vector<Claimed> out;
        for (const Claim& c : claims) {
          storage::Status status;
          auto key = e2ee::claim_key(txn, c.user_id, c.device_id, c.algorithm, &status);
          HAVEN_TRY(check(status));
          if (key) out.push_back({c.user_id, c.device_id, std::move(*key)});
        }
        return out;
      },
      [&ctx, ex, bodies = std::move(bodies), timeout_ms = *timeout_ms](
          Result<std::vector<Claimed>> r) mutable {
        if (!r.ok()) return ex->reply_error(r.error());
        auto d = std::make_shared<json::Document>(json::object());
        auto& a = d->GetAllocator();
        json::set(*d, "one_time_keys", json::Value(rapidjson::kObjectType), a);
        json::set(*d, "failures", json::Value(rapidjson::kObjectType), a);
        for (const Claimed& c : *r) {
          json::Value& devices =
              child(child((*d)["one_time_keys"], c.user_id, a), c.device_id, a);
          json::set(devices, c.key.full_key_id, copy_stored(c.key.json, a), a);
        }
        ask_servers_then_reply(
            ctx, ex, d, "/_matrix/federation/v1/user/keys/claim", std::move(bodies), timeout_ms,
            [](json::Document& out, const std::string& server, const json::Value& answer) {
              merge_remote_users(out, answer, "one_time_keys", server, out.GetAllocator());
            });
      });
}

// GET /_matrix/client/v3/keys/changes
void key_changes(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto from_text = ex->query("from");
  auto to_text = ex->query("to");
  if (!from_text || !to_text) {
    return ex->reply_error(Error::missing_param("'from' and 'to' are required"));
  }
  auto from = SyncToken::parse(*from_text);
  auto to = SyncToken::parse(*to_text);
  if (!from || !to) return ex->reply_error(Error::invalid_param("Invalid sync token"));
  auto txn = ctx.store->begin_read();
  if (!txn) return ex->reply_error(Error::unknown("Storage is busy"));
  // Changes after `to` are reported too: telling a client to re-query keys is always safe.
  e2ee::DeviceListDelta delta =
      e2ee::device_lists_since(*txn, who.user_id, from->device_lists, from->events);
  auto d = json::object();
  auto& a = d.GetAllocator();
  for (const char* field : {"changed", "left"}) {
    const auto& users = std::string_view(field) == "changed" ? delta.changed : delta.left;
    json::Value list(rapidjson::kArrayType);
    for (const std::string& u : users) list.PushBack(json::str(u, a), a);
    json::set(d, field, std::move(list), a);
  }
  ex->reply_json(200, d);
}

struct CrossSigningUpload {
  std::map<std::string, std::string> keys;  // usage -> canonical JSON
  bool needs_auth = false;
};

// Validates a device_signing/upload body against what is stored.
Result<CrossSigningUpload> check_cross_signing_upload(storage::ReadTxn& txn,
                                                      const json::Value& body,
                                                      const Requester& who) {
  CrossSigningUpload up;
  const json::Value* given[3] = {nullptr, nullptr, nullptr};
  const char* fields[] = {"master_key", "self_signing_key", "user_signing_key"};
  for (int i = 0; i < 3; ++i) {
    auto obj = json::optional_object(body, fields[i]);
    if (!obj.ok()) return obj.error();
    if (*obj == nullptr) continue;
    HAVEN_TRY(e2ee::check_cross_signing_key(**obj, who.user_id, kUsages[i]));
    auto text = crypto::canonical_json(**obj);
    if (!text) return Error::invalid_param(std::string(fields[i]) + " is not canonical JSON");
    if (text->size() > kMaxKeyBytes) return Error::too_large(std::string(fields[i]) + " too large");
    given[i] = *obj;
    up.keys[kUsages[i]] = std::move(*text);
  }
  std::optional<e2ee::PublicKey> master;
  if (given[0]) {
    master = e2ee::cross_signing_public_key(*given[0]);
  } else if (auto stored = e2ee::get_cross_signing_key(txn, who.user_id, "master")) {
    master = e2ee::cross_signing_public_key(*stored);
  }
  for (int i = 1; i < 3; ++i) {
    if (!given[i]) continue;
    if (!master) return Error::missing_param("No master key is available to check signatures");
    if (!crypto::verify_json(*given[i], who.user_id, master->key_id, master->raw)) {
      return invalid_signature(std::string(fields[i]) + " is not signed by the master key");
    }
  }
  for (const auto& dev : accounts::list_devices(txn, who.user_id)) {
    for (int i = 0; i < 3; ++i) {
      if (given[i] && e2ee::cross_signing_public_key(*given[i])->base64 == dev.device_id) {
        return Error::forbidden("Key ID in use by a device");
      }
    }
  }
  if (e2ee::get_cross_signing_key(txn, who.user_id, "master")) {
    for (const auto& [usage, text] : up.keys) {
      if (e2ee::get_cross_signing_key(txn, who.user_id, usage) != text) up.needs_auth = true;
    }
  }
  return up;
}

// Stores uploaded cross-signing keys; replacing the master key drops signatures made on it.
void store_cross_signing_keys(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who,
                              std::map<std::string, std::string> keys) {
  write<bool>(
      *ctx.store,
      [who, keys = std::move(keys)](storage::WriteTxn& txn) -> Result<bool> {
        bool changed = false;
        for (const auto& [usage, text] : keys) {
          auto old = e2ee::get_cross_signing_key(txn, who.user_id, usage);
          if (old == text) continue;
          if (old && usage == "master") {
            if (auto pub = e2ee::cross_signing_public_key(*old)) {
              HAVEN_TRY(check(e2ee::delete_signatures_of(txn, who.user_id, pub->base64)));
            }
          }
          HAVEN_TRY(check(e2ee::put_cross_signing_key(txn, who.user_id, usage, text)));
          changed = true;
        }
        if (changed) HAVEN_TRY(check(e2ee::mark_device_list_changed(txn, who.user_id)));
        return changed;
      },
      [&ctx, ex, who](Result<bool> r) {
        if (!r.ok()) return ex->reply_error(r.error());
        if (*r) notify_device_list_changed(ctx, who.user_id);
        ex->reply_json(200, "{}");
      });
}

// POST /_matrix/client/v3/keys/device_signing/upload
void upload_cross_signing_keys(ServerContext& ctx, const http::ExchangePtr& ex,
                               const Requester& who) {
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto txn = ctx.store->begin_read();
  if (!txn) return ex->reply_error(Error::unknown("Storage is busy"));
  auto up = check_cross_signing_upload(*txn, *body, who);
  txn.reset();
  if (!up.ok()) return ex->reply_error(up.error());
  // Application services replace their users' keys without UIA (Matrix 1.17).
  if (!up->needs_auth || who.appservice) {
    return store_cross_signing_keys(ctx, ex, who, std::move(up->keys));
  }
  ctx.uia->run(ctx, ex, *body, {{"m.login.password"}}, who.user_id,
               [&ctx, ex, who, keys = std::move(up->keys)] {
                 store_cross_signing_keys(ctx, ex, who, keys);
               });
}

struct SignatureToStore {
  std::string target_user;
  std::string target_key_id;
  e2ee::StoredSignature signature;
};

// Checks one signed object of /keys/signatures/upload: it must be a key we hold (apart from
// its signatures) and carry a valid signature by the requester's matching key: a device on
// the master key, the self-signing key on a device, the user-signing key on another's master.
Result<SignatureToStore> check_signed_key(ServerContext& ctx, storage::ReadTxn& txn,
                                          const Requester& who, const std::string& target_user,
                                          const std::string& key_id,
                                          const json::Value& signed_key) {
  if (!signed_key.IsObject()) return Error::bad_json("Signed keys must be objects");
  if (!is_local(ctx, target_user)) {
    return Error::with(404, "M_NOT_FOUND", "Keys of remote users are not available");
  }
  auto sigs_it = signed_key.FindMember("signatures");
  if (sigs_it == signed_key.MemberEnd() || !sigs_it->value.IsObject()) {
    return invalid_signature("No signatures");
  }
  auto mine = sigs_it->value.FindMember(who.user_id.c_str());
  if (mine == sigs_it->value.MemberEnd() || !mine->value.IsObject()) {
    return invalid_signature("No signature by the requester");
  }
  std::optional<std::string> stored;
  std::string signer_key_id;
  std::string signer_raw;
  auto master_text = e2ee::get_cross_signing_key(txn, target_user, "master");
  auto master = master_text ? e2ee::cross_signing_public_key(*master_text) : std::nullopt;
  if (target_user == who.user_id && master && master->base64 == key_id) {
    // A device vouches for the master key: find a signature by one of the user's devices.
    stored = master_text;
    for (const auto& s : mine->value.GetObject()) {
      std::string id(view(s.name));
      if (id.rfind("ed25519:", 0) != 0 || id == master->key_id) continue;
      auto dk = e2ee::get_device_keys(txn, who.user_id, id.substr(8));
      if (!dk) continue;
      auto raw = device_signing_key(json::parse_trusted(*dk), id.substr(8));
      if (!raw) continue;
      signer_key_id = id;
      signer_raw = *raw;
      break;
    }
  } else if (target_user == who.user_id) {
    stored = e2ee::get_device_keys(txn, who.user_id, key_id);
    auto ssk_text = e2ee::get_cross_signing_key(txn, who.user_id, "self_signing");
    auto ssk = ssk_text ? e2ee::cross_signing_public_key(*ssk_text) : std::nullopt;
    if (stored && !ssk) return Error::missing_param("No self-signing key has been uploaded");
    if (ssk) signer_key_id = ssk->key_id, signer_raw = ssk->raw;
  } else {
    if (master && master->base64 == key_id) stored = master_text;
    auto usk_text = e2ee::get_cross_signing_key(txn, who.user_id, "user_signing");
    auto usk = usk_text ? e2ee::cross_signing_public_key(*usk_text) : std::nullopt;
    if (stored && !usk) return Error::missing_param("No user-signing key has been uploaded");
    if (usk) signer_key_id = usk->key_id, signer_raw = usk->raw;
  }
  if (!stored) return Error::not_found("Unknown key " + key_id);
  if (signed_part(signed_key) != signed_part(json::parse_trusted(*stored))) {
    return Error::invalid_param("The signed object does not match the stored key");
  }
  auto sig = mine->value.FindMember(signer_key_id.c_str());
  if (signer_key_id.empty() || sig == mine->value.MemberEnd() || !sig->value.IsString()) {
    return invalid_signature("No signature by the expected signing key");
  }
  if (!crypto::verify_json(signed_key, who.user_id, signer_key_id, signer_raw)) {
    return invalid_signature("Invalid signature");
  }
  return SignatureToStore{
      target_user, key_id, {who.user_id, signer_key_id, std::string(view(sig->value))}};
}

// POST /_matrix/client/v3/keys/signatures/upload
void upload_signatures(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  size_t total = 0;
  for (const auto& u : body->GetObject()) {
    if (!u.value.IsObject()) return ex->reply_error(Error::bad_json("Expected maps of key ids"));
    total += u.value.MemberCount();
  }
  if (total > kMaxSignedKeys) return ex->reply_error(Error::too_large("Too many signed keys"));
  auto failures = std::make_shared<json::Document>(json::object());
  auto& a = failures->GetAllocator();
  std::vector<SignatureToStore> accepted;
  {
    auto txn = ctx.store->begin_read();
    if (!txn) return ex->reply_error(Error::unknown("Storage is busy"));
    for (const auto& u : body->GetObject()) {
      std::string user_id(view(u.name));
      for (const auto& k : u.value.GetObject()) {
        std::string key_id(view(k.name));
        auto r = check_signed_key(ctx, *txn, who, user_id, key_id, k.value);
        if (r.ok()) {
          accepted.push_back(std::move(*r));
        } else {
          json::set(child(*failures, user_id, a), key_id, error_object(r.error(), a), a);
        }
      }
    }
  }
  // Signatures on one's own keys change one's device list for everyone; a signature on
  // another user's master key is visible to the signer only.
  std::set<std::string> changed;
  if (!accepted.empty()) changed.insert(who.user_id);
  write<bool>(
      *ctx.store,
      [accepted = std::move(accepted), changed](storage::WriteTxn& txn) -> Result<bool> {
        for (const auto& s : accepted) {
          HAVEN_TRY(check(e2ee::put_signature(txn, s.target_user, s.target_key_id, s.signature)));
        }
        for (const auto& u : changed) HAVEN_TRY(check(e2ee::mark_device_list_changed(txn, u)));
        return true;
      },
      [&ctx, ex, failures, changed](Result<bool> r) {
        if (!r.ok()) return ex->reply_error(r.error());
        for (const auto& u : changed) notify_device_list_changed(ctx, u);
        auto d = json::object();
        json::set(d, "failures", json::Value(*failures, d.GetAllocator()), d.GetAllocator());
        ex->reply_json(200, d);
      });
}

}  // namespace

void notify_device_list_changed(ServerContext& ctx, const std::string& user_id) {
  auto txn = ctx.store->begin_read();
  if (!txn) return;
  std::set<std::string> users = rooms::users_sharing_rooms(*txn, user_id);
  txn.reset();
  ctx.notifier->notify_users(users);
  if (ctx.appservices) ctx.appservices->device_lists_changed();
  if (ctx.outbound) ctx.outbound->local_device_list_changed(user_id);
}

void register_key_routes(http::Router& r, ServerContext& ctx) {
  add_authed(r, ctx, "POST", v3("/keys/upload"),
             [&ctx](auto& ex, auto& who) { upload_keys(ctx, ex, who); });
  add_authed(r, ctx, "POST", v3("/keys/query"),
             [&ctx](auto& ex, auto& who) { query_keys(ctx, ex, who); });
  add_authed(r, ctx, "POST", v3("/keys/claim"),
             [&ctx](auto& ex, auto& who) { claim_keys(ctx, ex, who); });
  add_authed(r, ctx, "GET", v3("/keys/changes"),
             [&ctx](auto& ex, auto& who) { key_changes(ctx, ex, who); });
  add_authed(r, ctx, "POST", v3("/keys/device_signing/upload"),
             [&ctx](auto& ex, auto& who) { upload_cross_signing_keys(ctx, ex, who); });
  add_authed(r, ctx, "POST", v3("/keys/signatures/upload"),
             [&ctx](auto& ex, auto& who) { upload_signatures(ctx, ex, who); });
}

}  // namespace haven::client
