// Signing and hashing JSON objects per the spec appendix ("Signing JSON", "Signing events"):
// content hashes, reference hashes, adding and checking signatures. Knows nothing of room
// versions: the room core redacts an event before asking for its reference hash.
// Pure functions on rapidjson values; any thread.
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>

#include "crypto/ed25519.h"

namespace haven::crypto {

// Adds signatures[entity][key_id] to `object` (an object), signing its canonical JSON without
// "signatures" and "unsigned". Existing signatures are kept. False if not canonicalisable.
bool sign_json(rapidjson::Value& object, rapidjson::Document::AllocatorType& alloc,
               std::string_view entity, const SigningKey& key);

// True when signatures[entity][key_id] is a valid signature by `public_key` (32 raw bytes).
// `key_id` must be an "ed25519:" key id; any other algorithm is refused.
bool verify_json(const rapidjson::Value& object, std::string_view entity, std::string_view key_id,
                 std::string_view public_key);

// sha256 of the canonical JSON of the event without "unsigned", "signatures" and "hashes"
// (raw 32 bytes). nullopt if not canonicalisable.
std::optional<std::string> content_hash(const rapidjson::Value& event);

// Sets event["hashes"] = {"sha256": <unpadded b64 of content_hash>}.
bool add_content_hash(rapidjson::Value& event, rapidjson::Document::AllocatorType& alloc);

// True when event["hashes"]["sha256"] matches the content hash.
bool check_content_hash(const rapidjson::Value& event);

// sha256 of the canonical JSON of an already *redacted* event without "signatures",
// "unsigned" and "age_ts" (raw 32 bytes).
std::optional<std::string> reference_hash(const rapidjson::Value& redacted_event);

}  // namespace haven::crypto
