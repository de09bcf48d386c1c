// At-rest encryption of stored content (XChaCha20-Poly1305, libsodium) with a per-room key, so
// deleting a room's key makes its content unreadable wherever old bytes linger. Any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace haven::crypto {

constexpr size_t kSecretKeyBytes = 32;
// Bytes secretbox_seal adds to the plaintext: a random 24-byte nonce and a 16-byte tag.
constexpr size_t kSecretboxOverhead = 24 + 16;

// A fresh random key of kSecretKeyBytes.
std::string new_secret_key();

// nonce || ciphertext || tag. `associated_data` is authenticated but not stored (pass e.g. the
// record's key, so a sealed value cannot be moved to another record); open must be given the
// same. `key` must be kSecretKeyBytes long: anything else is a programming error and throws
// std::invalid_argument rather than storing content that could never be read back.
std::string secretbox_seal(std::string_view key, std::string_view plaintext,
                           std::string_view associated_data = {});

// The plaintext, or nullopt when `sealed` was not sealed with this key and associated data,
// was altered, or is too short; also nullopt for a key of the wrong length.
std::optional<std::string> secretbox_open(std::string_view key, std::string_view sealed,
                                          std::string_view associated_data = {});

}  // namespace haven::crypto
