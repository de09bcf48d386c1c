#include "crypto/password.h"

#include <sodium.h>

#include "crypto/sodium_init.h"

namespace haven::crypto {
namespace {

// Never null, even for an empty password: argon2 may memcpy from it.
const char* chars_of(std::string_view s) { return s.empty() ? "" : s.data(); }

}  // namespace

// libsodium's INTERACTIVE limits: 2 passes over 64 MiB, well under a second on a server core.
// The parameters are stored in the encoded hash, so raising them later leaves old hashes
// verifiable.
std::optional<std::string> hash_password(std::string_view password) {
  detail::ensure_sodium();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, chars_of(password), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return std::nullopt;
  }
  return std::string(out);
}

bool verify_password(std::string_view password, std::string_view encoded_hash) {
  // libsodium reads the hash as a C string: refuse what would not survive that.
  if (encoded_hash.empty() || encoded_hash.size() >= crypto_pwhash_STRBYTES ||
      encoded_hash.find('\0') != std::string_view::npos) {
    return false;
  }
  detail::ensure_sodium();
  const std::string hash(encoded_hash);
  return crypto_pwhash_str_verify(hash.c_str(), chars_of(password), password.size()) == 0;
}

}  // namespace haven::crypto
