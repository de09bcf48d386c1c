// Password hashing with argon2id (libsodium crypto_pwhash_str). Slow by design: call from the
// worker pool, never from the event loop thread. Any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace haven::crypto {

// The encoded hash ("$argon2id$v=19$..."), or nullopt when out of memory.
std::optional<std::string> hash_password(std::string_view password);
bool verify_password(std::string_view password, std::string_view encoded_hash);

}  // namespace haven::crypto
