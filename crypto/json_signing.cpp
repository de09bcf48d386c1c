#include "crypto/json_signing.h"

#include "crypto/base64.h"
#include "crypto/canonical_json.h"
#include "crypto/hash.h"

namespace haven::crypto {
namespace {

using rapidjson::Value;

// object[name], or nullptr when absent. `object` must be an object.
const Value* find_member(const Value& object, std::string_view name) {
  auto it = object.FindMember(Value(rapidjson::StringRef(name.data(), name.size())));
  return it == object.MemberEnd() ? nullptr : &it->value;
}

Value* find_member(Value& object, std::string_view name) {
  auto it = object.FindMember(Value(rapidjson::StringRef(name.data(), name.size())));
  return it == object.MemberEnd() ? nullptr : &it->value;
}

Value make_string(std::string_view s, rapidjson::Document::AllocatorType& alloc) {
  return Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), alloc);
}

// object[name] as an object, added when missing; nullptr when present but not an object.
Value* member_object(Value& object, std::string_view name,
                     rapidjson::Document::AllocatorType& alloc) {
  if (Value* existing = find_member(object, name)) {
    return existing->IsObject() ? existing : nullptr;
  }
  object.AddMember(make_string(name, alloc), Value(rapidjson::kObjectType), alloc);
  return &(object.MemberEnd() - 1)->value;
}

// Sets object[name] = value, replacing an existing member of that name.
void set_member(Value& object, std::string_view name, Value value,
                rapidjson::Document::AllocatorType& alloc) {
  if (Value* existing = find_member(object, name)) {
    *existing = std::move(value);
  } else {
    object.AddMember(make_string(name, alloc), std::move(value), alloc);
  }
}

}  // namespace

bool sign_json(Value& object, rapidjson::Document::AllocatorType& alloc, std::string_view entity,
               const SigningKey& key) {
  if (!object.IsObject()) return false;
  const auto canonical = canonical_json_excluding(object, {"signatures", "unsigned"});
  if (!canonical) return false;
  // Check the shape before changing anything, so a refusal leaves the object as it was.
  if (const Value* signatures = find_member(object, "signatures")) {
    if (!signatures->IsObject()) return false;
    const Value* by_entity = find_member(*signatures, entity);
    if (by_entity && !by_entity->IsObject()) return false;
  }
  const std::string signature = base64_encode(key.sign(*canonical));
  Value* signatures = member_object(object, "signatures", alloc);
  Value* by_entity = member_object(*signatures, entity, alloc);
  set_member(*by_entity, key.key_id(), make_string(signature, alloc), alloc);
  return true;
}

bool verify_json(const Value& object, std::string_view entity, std::string_view key_id,
                 std::string_view public_key) {
  // Only ed25519 is understood; a key id of another algorithm never verifies.
  if (!object.IsObject() || !key_id.starts_with("ed25519:")) return false;
  const Value* signatures = find_member(object, "signatures");
  if (!signatures || !signatures->IsObject()) return false;
  const Value* by_entity = find_member(*signatures, entity);
  if (!by_entity || !by_entity->IsObject()) return false;
  const Value* encoded = find_member(*by_entity, key_id);
  if (!encoded || !encoded->IsString()) return false;
  const auto signature =
      base64_decode(std::string_view(encoded->GetString(), encoded->GetStringLength()));
  if (!signature) return false;
  const auto canonical = canonical_json_excluding(object, {"signatures", "unsigned"});
  if (!canonical) return false;
  return ed25519_verify(public_key, *canonical, *signature);
}

std::optional<std::string> content_hash(const Value& event) {
  const auto canonical = canonical_json_excluding(event, {"unsigned", "signatures", "hashes"});
  if (!canonical) return std::nullopt;
  return sha256(*canonical);
}

bool add_content_hash(Value& event, rapidjson::Document::AllocatorType& alloc) {
  const auto hash = content_hash(event);
  if (!hash) return false;
  Value hashes(rapidjson::kObjectType);
  hashes.AddMember("sha256", make_string(base64_encode(*hash), alloc), alloc);
  set_member(event, "hashes", std::move(hashes), alloc);
  return true;
}

bool check_content_hash(const Value& event) {
  if (!event.IsObject()) return false;
  const Value* hashes = find_member(event, "hashes");
  if (!hashes || !hashes->IsObject()) return false;
  const Value* encoded = find_member(*hashes, "sha256");
  if (!encoded || !encoded->IsString()) return false;
  const auto claimed =
      base64_decode(std::string_view(encoded->GetString(), encoded->GetStringLength()));
  const auto actual = content_hash(event);
  return claimed && actual && constant_time_equal(*claimed, *actual);
}

std::optional<std::string> reference_hash(const Value& redacted_event) {
  const auto canonical =
      canonical_json_excluding(redacted_event, {"signatures", "unsigned", "age_ts"});
  if (!canonical) return std::nullopt;
  return sha256(*canonical);
}

}  // namespace haven::crypto
