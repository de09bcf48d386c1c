#include "federation/key_ring.h"

#include <spdlog/spdlog.h>

#include "crypto/json_signing.h"
#include "federation/key_store.h"
#include "homeserver/base/write.h"

namespace haven::federation {
namespace {

constexpr size_t kMaxKeyResponseBytes = 256 * 1024;
constexpr size_t kMaxNotaryResponseBytes = 1 << 20;
constexpr size_t kMaxLastFetchEntries = 10'000;

Error unauthorized(std::string message) {
  return Error::with(401, "M_UNAUTHORIZED", std::move(message));
}

}  // namespace

struct KeyRing::Fetched {
  std::vector<ServerKeys> keys;
  std::string error;  // why nothing was fetched for the server asked about
};

KeyRing::KeyRing(Loop& loop, storage::Store& store, FederationClient& client, std::string own_name,
                 const crypto::SigningKey& own_key, std::vector<OldOwnKey> own_old_keys,
                 std::vector<std::string> notaries, std::function<int64_t()> now)
    : loop_(loop),
      store_(store),
      client_(client),
      own_name_(std::move(own_name)),
      own_key_(own_key),
      own_old_keys_(std::move(own_old_keys)),
      notaries_(std::move(notaries)),
      now_(std::move(now)) {}

json::Document KeyRing::own_key_object() const {
  return own_server_keys(own_name_, own_key_, own_old_keys_, now_() + kOwnKeyValidityMs);
}

std::optional<KnownKey> KeyRing::lookup(const std::string& server, const std::string& key_id) {
  if (server == own_name_) {
    if (key_id == own_key_.key_id()) {
      return KnownKey{own_key_.public_key(), now_() + kOwnKeyValidityMs, 0};
    }
    for (const OldOwnKey& old : own_old_keys_) {
      if (old.key_id == key_id) return KnownKey{old.public_key, 0, old.expired_ts};
    }
    return std::nullopt;
  }
  auto txn = store_.begin_read();
  if (!txn) return std::nullopt;
  return get_server_key(*txn, server, key_id);
}

void KeyRing::get_key(const std::string& server, const std::string& key_id, int64_t at_ts,
                      KeyUse use, KeyDone done) {
  if (!is_ed25519_key_id(key_id)) return done(unauthorized("Unsupported key id " + key_id));
  auto found = lookup(server, key_id);
  if (found && check_key_usable(*found, at_ts, use).ok()) return done(std::move(*found));
  if (server == own_name_) return done(unauthorized("Unknown key " + key_id + " of this server"));
  fetch(server, key_id, [this, server, key_id, at_ts, use, done = std::move(done)] {
    auto key = lookup(server, key_id);
    if (!key) return done(unauthorized("Cannot get key " + key_id + " of " + server));
    if (auto usable = check_key_usable(*key, at_ts, use); !usable.ok()) {
      return done(usable.error());
    }
    done(std::move(*key));
  });
}

void KeyRing::key_objects(const std::string& server, int64_t min_valid_until_ts,
                          std::function<void(std::vector<std::string>)> done) {
  if (server == own_name_) return done({json::to_string(own_key_object())});
  auto stored = [this, server]() -> std::vector<std::string> {
    auto txn = store_.begin_read();
    if (!txn) return {};
    auto object = get_key_object(*txn, server);
    if (!object) return {};
    return {object->json};
  };
  {
    auto txn = store_.begin_read();
    auto object = txn ? get_key_object(*txn, server) : std::nullopt;
    if (object && object->valid_until_ts >= min_valid_until_ts) return done({object->json});
  }
  fetch(server, "", [stored, done = std::move(done)] { done(stored()); });
}

void KeyRing::fetch(const std::string& server, const std::string& wanted,
                    std::function<void()> done) {
  const int64_t now = now_();
  const std::string throttle_key = server + '\0' + wanted;
  // A fetch on its way serves this caller too: the throttle below is for fetches that ended
  // (answering at once would fail callers that asked while the first fetch ran).
  if (auto in_flight = waiting_.find(server); in_flight != waiting_.end()) {
    in_flight->second.push_back(std::move(done));
    return;
  }
  auto last = last_fetch_.find(throttle_key);
  if (last != last_fetch_.end() && now - last->second < kMinRefetchMs) return done();
  waiting_[server].push_back(std::move(done));
  if (last_fetch_.size() >= kMaxLastFetchEntries) {
    std::erase_if(last_fetch_, [now](const auto& e) { return now - e.second >= kMinRefetchMs; });
  }
  last_fetch_[throttle_key] = now;

  auto alive = alive_;
  auto finish = [this, alive, server](Fetched fetched) {
    if (!*alive) return;
    if (!fetched.error.empty()) {
      spdlog::info("federation: cannot fetch the keys of {}: {}", server, fetched.error);
    }
    auto wake = [this, alive, server] {
      if (!*alive) return;
      auto waiters = std::move(waiting_[server]);
      waiting_.erase(server);
      for (auto& waiter : waiters) waiter();
    };
    if (fetched.keys.empty()) return wake();
    const int64_t fetched_ts = now_();
    write<bool>(
        store_,
        [keys = std::move(fetched.keys), fetched_ts](storage::WriteTxn& txn) -> Result<bool> {
          for (const ServerKeys& k : keys) HAVEN_TRY(check(put_server_keys(txn, k, fetched_ts)));
          return true;
        },
        [wake](Result<bool>) { wake(); });
  };
  const bool queued = client_.run_blocking([this, alive, server, finish] {
    Fetched fetched = fetch_blocking(server);
    loop_.post([finish, fetched = std::move(fetched)]() mutable { finish(std::move(fetched)); });
  });
  if (!queued) finish(Fetched{{}, "too many outbound requests queued"});
}

KeyRing::Fetched KeyRing::fetch_blocking(const std::string& server) {
  Fetched out;
  auto direct = fetch_direct(server);
  if (direct.ok()) {
    out.keys.push_back(std::move(*direct));
    return out;
  }
  out.error = direct.error().message;
  for (const std::string& notary : notaries_) {
    if (notary == server || notary == own_name_) continue;
    auto via = fetch_from_notary(notary, server);
    if (via.ok() && !via->empty()) {
      out.keys = std::move(*via);
      out.error.clear();
      return out;
    }
    out.error +=
        "; notary " + notary + ": " + (via.ok() ? std::string("no keys") : via.error().message);
  }
  return out;
}

Result<ServerKeys> KeyRing::fetch_direct(const std::string& server) {
  OutboundRequest request;
  request.destination = server;
  request.target = "/_matrix/key/v2/server";
  request.sign = false;
  request.max_response_bytes = kMaxKeyResponseBytes;
  auto response = client_.perform(request);
  if (!response.ok()) return std::move(response).error();
  if (response->status != 200) {
    return unauthorized("HTTP " + std::to_string(response->status) + " from " + server);
  }
  auto body = json::parse_object(response->body);
  if (!body.ok()) return unauthorized("Key response of " + server + " is not a JSON object");
  auto keys = parse_server_keys(*body, server, now_());
  if (keys.ok()) keys->json = response->body;
  return keys;
}

Result<std::vector<ServerKeys>> KeyRing::fetch_from_notary(const std::string& notary,
                                                           const std::string& server) {
  // The notary's own key, to check its signature: from the store, else from the notary.
  std::optional<ServerKeys> notary_keys;
  auto notary_key = [&](const std::string& key_id) -> std::optional<KnownKey> {
    if (notary_keys && notary_keys->keys.contains(key_id)) return notary_keys->keys.at(key_id);
    if (auto stored = lookup(notary, key_id)) return stored;
    if (notary_keys) return std::nullopt;
    auto fetched = fetch_direct(notary);
    if (!fetched.ok()) return std::nullopt;
    notary_keys = std::move(*fetched);
    if (notary_keys->keys.contains(key_id)) return notary_keys->keys.at(key_id);
    return std::nullopt;
  };

  auto query = json::object();
  auto& a = query.GetAllocator();
  json::Value servers(rapidjson::kObjectType);
  json::set(servers, server, json::Value(rapidjson::kObjectType), a);
  json::set(query, "server_keys", std::move(servers), a);
  OutboundRequest request;
  request.destination = notary;
  request.method = "POST";
  request.target = "/_matrix/key/v2/query";
  request.json_body = json::to_string(query);
  request.max_response_bytes = kMaxNotaryResponseBytes;
  auto response = client_.perform(request);
  if (!response.ok()) return std::move(response).error();
  if (response->status != 200) return unauthorized("HTTP " + std::to_string(response->status));
  auto body = json::parse_object(response->body);
  if (!body.ok()) return unauthorized("the answer is not a JSON object");
  auto list = body->FindMember("server_keys");
  if (list == body->MemberEnd() || !list->value.IsArray()) {
    return unauthorized("the answer has no server_keys list");
  }
  const int64_t now = now_();
  std::vector<ServerKeys> out;
  for (const auto& object : list->value.GetArray()) {
    auto keys = parse_server_keys(object, server, now);
    if (!keys.ok()) continue;  // another server's object, or not signed by the server
    bool cosigned = false;
    auto sigs = object.FindMember("signatures");
    auto by_notary = sigs->value.FindMember(notary.c_str());
    if (by_notary != sigs->value.MemberEnd() && by_notary->value.IsObject()) {
      for (const auto& sig : by_notary->value.GetObject()) {
        const std::string key_id(sig.name.GetString(), sig.name.GetStringLength());
        auto key = is_ed25519_key_id(key_id) ? notary_key(key_id) : std::nullopt;
        if (key && check_key_usable(*key, now, KeyUse::kRequest).ok() &&
            crypto::verify_json(object, notary, key_id, key->public_key)) {
          cosigned = true;
          break;
        }
      }
    }
    if (!cosigned) continue;
    keys->json = json::to_string(object);
    out.push_back(std::move(*keys));
  }
  if (notary_keys && !out.empty()) out.push_back(std::move(*notary_keys));
  return out;
}

}  // namespace haven::federation
