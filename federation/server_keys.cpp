#include "federation/server_keys.h"

#include <algorithm>
#include <cctype>

#include "crypto/base64.h"
#include "crypto/json_signing.h"

namespace haven::federation {
namespace {

Error unauthorized(std::string message) {
  return Error::with(401, "M_UNAUTHORIZED", std::move(message));
}

const rapidjson::Value* member(const rapidjson::Value& object, const char* name) {
  auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

// The 32 raw bytes of {"key": "<unpadded base64>"}, or an error naming `key_id`.
Result<std::string> public_key_of(const rapidjson::Value& entry, const std::string& key_id) {
  if (!entry.IsObject()) return unauthorized("Key " + key_id + " is not an object");
  const rapidjson::Value* key = member(entry, "key");
  if (key == nullptr || !key->IsString()) {
    return unauthorized("Key " + key_id + " has no 'key' string");
  }
  auto raw = crypto::base64_decode(std::string_view(key->GetString(), key->GetStringLength()));
  if (!raw || raw->size() != 32) {
    return unauthorized("Key " + key_id + " is not a 32-byte ed25519 key");
  }
  return std::move(*raw);
}

}  // namespace

bool is_ed25519_key_id(std::string_view key_id) {
  constexpr std::string_view kPrefix = "ed25519:";
  if (!key_id.starts_with(kPrefix) || key_id.size() == kPrefix.size()) return false;
  return std::all_of(key_id.begin() + kPrefix.size(), key_id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

Status check_key_usable(const KnownKey& key, int64_t at_ts, KeyUse use) {
  if (key.expired_ts != 0) {
    if (use == KeyUse::kRequest) {
      return unauthorized("The key is an old key: it may not sign requests");
    }
    if (at_ts >= key.expired_ts) return unauthorized("The key had expired by then");
    return {};
  }
  if (at_ts > key.valid_until_ts) return unauthorized("The key is past its valid_until_ts");
  return {};
}

Result<ServerKeys> parse_server_keys(const rapidjson::Value& object,
                                     std::string_view expected_server, int64_t fetched_ts) {
  if (!object.IsObject()) return unauthorized("Key response is not a JSON object");
  const rapidjson::Value* name = member(object, "server_name");
  if (name == nullptr || !name->IsString()) return unauthorized("Key response has no server_name");
  ServerKeys out;
  out.server_name.assign(name->GetString(), name->GetStringLength());
  if (out.server_name != expected_server) {
    return unauthorized("Key response is for " + out.server_name + ", not " +
                        std::string(expected_server));
  }
  const rapidjson::Value* valid_until = member(object, "valid_until_ts");
  if (valid_until == nullptr || !valid_until->IsInt64()) {
    return unauthorized("Key response has no integer valid_until_ts");
  }
  out.valid_until_ts = valid_until->GetInt64();
  const int64_t capped = std::min(out.valid_until_ts, fetched_ts + kMaxKeyValidityMs);

  const rapidjson::Value* verify_keys = member(object, "verify_keys");
  if (verify_keys == nullptr || !verify_keys->IsObject() || verify_keys->MemberCount() == 0) {
    return unauthorized("Key response has no verify_keys");
  }
  for (const auto& entry : verify_keys->GetObject()) {
    std::string key_id(entry.name.GetString(), entry.name.GetStringLength());
    if (!is_ed25519_key_id(key_id)) continue;  // other algorithms are not ours to check
    auto key = public_key_of(entry.value, key_id);
    if (!key.ok()) return std::move(key).error();
    if (!crypto::verify_json(object, expected_server, key_id, *key)) {
      return unauthorized("Key response is not signed by its key " + key_id);
    }
    out.keys[key_id] = KnownKey{std::move(*key), capped, 0};
  }
  if (out.keys.empty()) return unauthorized("Key response has no ed25519 verify key");

  if (const rapidjson::Value* old = member(object, "old_verify_keys")) {
    if (!old->IsObject()) return unauthorized("old_verify_keys is not an object");
    for (const auto& entry : old->GetObject()) {
      std::string key_id(entry.name.GetString(), entry.name.GetStringLength());
      if (!is_ed25519_key_id(key_id) || out.keys.contains(key_id)) continue;
      auto key = public_key_of(entry.value, key_id);
      if (!key.ok()) return std::move(key).error();
      const rapidjson::Value* expired = member(entry.value, "expired_ts");
      if (expired == nullptr || !expired->IsInt64() || expired->GetInt64() <= 0) {
        return unauthorized("Old key " + key_id + " has no expired_ts");
      }
      out.keys[key_id] = KnownKey{std::move(*key), 0, expired->GetInt64()};
    }
  }
  return out;
}

rapidjson::Document own_server_keys(std::string_view server_name, const crypto::SigningKey& key,
                                    const std::vector<OldOwnKey>& old_keys,
                                    int64_t valid_until_ts) {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  auto str = [&a](std::string_view s) {
    return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
  };
  d.AddMember("server_name", str(server_name), a);
  d.AddMember("valid_until_ts", rapidjson::Value(valid_until_ts), a);
  rapidjson::Value verify(rapidjson::kObjectType);
  rapidjson::Value current(rapidjson::kObjectType);
  current.AddMember("key", str(crypto::base64_encode(key.public_key())), a);
  verify.AddMember(str(key.key_id()), current, a);
  d.AddMember("verify_keys", verify, a);
  rapidjson::Value old(rapidjson::kObjectType);
  for (const OldOwnKey& k : old_keys) {
    if (k.key_id == key.key_id()) continue;
    rapidjson::Value entry(rapidjson::kObjectType);
    entry.AddMember("key", str(crypto::base64_encode(k.public_key)), a);
    entry.AddMember("expired_ts", rapidjson::Value(k.expired_ts), a);
    old.AddMember(str(k.key_id), entry, a);
  }
  d.AddMember("old_verify_keys", old, a);
  crypto::sign_json(d, a, server_name, key);
  return d;
}

}  // namespace haven::federation
