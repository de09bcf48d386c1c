#include "crypto/secretbox.h"

#include <sodium.h>

#include <stdexcept>

#include "crypto/sodium_init.h"

namespace haven::crypto {
namespace {

static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == kSecretKeyBytes);
constexpr size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
static_assert(kNonceBytes + kTagBytes == kSecretboxOverhead);

// Never null, even for an empty view: libsodium may read from it with a zero length.
const unsigned char* bytes_of(std::string_view s) {
  static const unsigned char kEmpty = 0;
  return s.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::string new_secret_key() {
  detail::ensure_sodium();
  std::string key(kSecretKeyBytes, '\0');
  crypto_aead_xchacha20poly1305_ietf_keygen(reinterpret_cast<unsigned char*>(key.data()));
  return key;
}

std::string secretbox_seal(std::string_view key, std::string_view plaintext,
                           std::string_view associated_data) {
  if (key.size() != kSecretKeyBytes) {
    throw std::invalid_argument("secretbox_seal: key must be 32 bytes");
  }
  detail::ensure_sodium();
  std::string sealed(kNonceBytes + plaintext.size() + kTagBytes, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(sealed.data());
  // 192-bit nonces are safe to draw at random: collisions are negligible for any number of
  // messages under one key.
  randombytes_buf(nonce, kNonceBytes);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + kNonceBytes, &written, bytes_of(plaintext),
                                             plaintext.size(), bytes_of(associated_data),
                                             associated_data.size(), nullptr, nonce, bytes_of(key));
  sealed.resize(kNonceBytes + written);
  return sealed;
}

std::optional<std::string> secretbox_open(std::string_view key, std::string_view sealed,
                                          std::string_view associated_data) {
  if (key.size() != kSecretKeyBytes || sealed.size() < kSecretboxOverhead) return std::nullopt;
  detail::ensure_sodium();
  const auto* nonce = bytes_of(sealed);
  const size_t ciphertext_size = sealed.size() - kNonceBytes;
  std::string plaintext(ciphertext_size - kTagBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(plaintext.data());  // never null, even empty
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          out, &written, nullptr, nonce + kNonceBytes, ciphertext_size, bytes_of(associated_data),
          associated_data.size(), nonce, bytes_of(key)) != 0) {
    return std::nullopt;
  }
  plaintext.resize(written);
  return plaintext;
}

}  // namespace haven::crypto
