#include "crypto/hash.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <cstdlib>

#include "crypto/sodium_init.h"

namespace haven::crypto {
namespace {

// Never null, even for an empty view: the C libraries memcpy from it, and memcpy from a null
// pointer is undefined even for zero bytes.
const unsigned char* bytes_of(std::string_view s) {
  static const unsigned char kEmpty = 0;
  return s.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::string sha256(std::string_view data) {
  detail::ensure_sodium();
  std::string out(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(out.data()), bytes_of(data), data.size());
  return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  detail::ensure_sodium();
  // The one-shot crypto_auth_hmacsha256() takes only 32-byte keys; the streaming API takes
  // keys of any length (hashing long ones first, as RFC 2104 says).
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, bytes_of(key), key.size());
  crypto_auth_hmacsha256_update(&state, bytes_of(data), data.size());
  std::string out(crypto_auth_hmacsha256_BYTES, '\0');
  crypto_auth_hmacsha256_final(&state, reinterpret_cast<unsigned char*>(out.data()));
  sodium_memzero(&state, sizeof state);
  return out;
}

std::string hmac_sha1(std::string_view key, std::string_view data) {
  // libsodium has no SHA-1; Synapse's shared-secret registration needs it.
  std::string out(EVP_MAX_MD_SIZE, '\0');
  unsigned int len = 0;
  // OpenSSL's HMAC() with a non-null output buffer fails only when out of memory.
  if (HMAC(EVP_sha1(), bytes_of(key), static_cast<int>(key.size()), bytes_of(data), data.size(),
           reinterpret_cast<unsigned char*>(out.data()), &len) == nullptr) {
    std::abort();
  }
  out.resize(len);
  return out;
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    out += kHex[c >> 4];
    out += kHex[c & 0xF];
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  detail::ensure_sodium();
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace haven::crypto
