// Cross-signing tables: kCrossSigningKeys (user \0 usage -> key JSON) and kKeySignatures
// (target user \0 target key id \0 signer user \0 signer key id -> unpadded base64 signature).
#include "homeserver/e2ee/cross_signing.h"

#include "crypto/base64.h"
#include "storage/keys.h"

namespace haven::e2ee {

namespace {
using storage::KeyBuilder;
using storage::KeyReader;
using storage::Table;
}  // namespace

std::optional<std::string> get_cross_signing_key(storage::ReadTxn& txn, std::string_view user_id,
                                                 std::string_view usage) {
  auto v = txn.get(Table::kCrossSigningKeys, KeyBuilder().str(user_id).tail(usage).build());
  if (!v) return std::nullopt;
  return std::string(*v);
}

storage::Status put_cross_signing_key(storage::WriteTxn& txn, std::string_view user_id,
                                      std::string_view usage, std::string_view json) {
  return txn.put(Table::kCrossSigningKeys, KeyBuilder().str(user_id).tail(usage).build(), json);
}

std::optional<PublicKey> cross_signing_public_key(const json::Value& key) {
  if (!key.IsObject()) return std::nullopt;
  auto keys = key.FindMember("keys");
  if (keys == key.MemberEnd() || !keys->value.IsObject() || keys->value.MemberCount() != 1) {
    return std::nullopt;
  }
  const auto& only = *keys->value.MemberBegin();
  if (!only.value.IsString()) return std::nullopt;
  std::string id(only.name.GetString(), only.name.GetStringLength());
  std::string b64(only.value.GetString(), only.value.GetStringLength());
  if (id != "ed25519:" + b64) return std::nullopt;
  auto raw = crypto::base64_decode(b64);
  if (!raw || raw->size() != 32) return std::nullopt;
  return PublicKey{id, b64, *raw};
}

std::optional<PublicKey> cross_signing_public_key(std::string_view stored_json) {
  auto d = json::parse_trusted(stored_json);
  return cross_signing_public_key(d);
}

Status check_cross_signing_key(const json::Value& key, std::string_view user_id,
                               std::string_view usage) {
  std::string what = std::string(usage) + " key";
  if (!key.IsObject()) return Error::invalid_param(what + " is not an object");
  if (json::get_string(key, "user_id") != user_id) {
    return Error::invalid_param(what + ": user_id does not match the requester");
  }
  auto u = key.FindMember("usage");
  bool has_usage = false;
  if (u != key.MemberEnd() && u->value.IsArray()) {
    for (const auto& item : u->value.GetArray()) {
      if (!item.IsString()) return Error::invalid_param(what + ": usage must hold strings");
      if (usage == item.GetString()) has_usage = true;
    }
  }
  if (!has_usage) return Error::invalid_param(what + ": usage must include " + std::string(usage));
  if (!cross_signing_public_key(key)) {
    return Error::invalid_param(what + ": keys must hold exactly one ed25519 public key");
  }
  auto sigs = key.FindMember("signatures");
  if (sigs != key.MemberEnd() && !sigs->value.IsObject()) {
    return Error::invalid_param(what + ": signatures must be an object");
  }
  return {};
}

storage::Status put_signature(storage::WriteTxn& txn, std::string_view target_user,
                              std::string_view target_key_id, const StoredSignature& sig) {
  std::string key = KeyBuilder()
                        .str(target_user)
                        .str(target_key_id)
                        .str(sig.signer_user)
                        .tail(sig.signer_key_id)
                        .take();
  return txn.put(Table::kKeySignatures, key, sig.signature);
}

std::vector<StoredSignature> signatures_of(storage::ReadTxn& txn, std::string_view target_user,
                                           std::string_view target_key_id) {
  std::vector<StoredSignature> out;
  std::string prefix = KeyBuilder().str(target_user).str(target_key_id).take();
  txn.scan(Table::kKeySignatures, prefix, {}, storage::Direction::kForward,
           [&](std::string_view key, std::string_view value) {
             KeyReader r(key.substr(prefix.size()));
             auto signer = r.str();
             if (!signer) return true;
             out.push_back({std::string(*signer), std::string(r.tail()), std::string(value)});
             return true;
           });
  return out;
}

storage::Status delete_signatures_of(storage::WriteTxn& txn, std::string_view target_user,
                                     std::string_view target_key_id) {
  return txn.del_prefix(Table::kKeySignatures,
                        KeyBuilder().str(target_user).str(target_key_id).build());
}

void merge_signatures(storage::ReadTxn& txn, json::Value& key, json::Alloc& a,
                      std::string_view target_user, std::string_view target_key_id,
                      std::string_view viewer) {
  auto sigs = signatures_of(txn, target_user, target_key_id);
  if (sigs.empty() || !key.IsObject()) return;
  if (!key.HasMember("signatures") || !key["signatures"].IsObject()) {
    json::set(key, "signatures", json::Value(rapidjson::kObjectType), a);
  }
  json::Value& all = key["signatures"];
  for (const StoredSignature& s : sigs) {
    if (s.signer_user != target_user && s.signer_user != viewer) continue;
    auto by = all.FindMember(s.signer_user.c_str());
    if (by == all.MemberEnd() || !by->value.IsObject()) {
      json::set(all, s.signer_user, json::Value(rapidjson::kObjectType), a);
      by = all.FindMember(s.signer_user.c_str());
    }
    auto existing = by->value.FindMember(s.signer_key_id.c_str());
    if (existing != by->value.MemberEnd()) {
      existing->value = json::str(s.signature, a);
    } else {
      json::set(by->value, s.signer_key_id, s.signature, a);
    }
  }
}

}  // namespace haven::e2ee
