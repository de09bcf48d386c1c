#include "crypto/olm_primitives.h"

#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <sodium.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "crypto/hash.h"
#include "crypto/sodium_init.h"

namespace haven::crypto::olm {
namespace {

// Never null, even for an empty view (the C libraries may memcpy from it).
const unsigned char* bytes_of(std::string_view s) {
  static const unsigned char kEmpty = 0;
  return s.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(s.data());
}

unsigned char* writable(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};

}  // namespace

std::optional<SecretKey> SecretKey::from_bytes(std::string_view bytes) {
  if (bytes.size() != kKeyLength) return std::nullopt;
  SecretKey key;
  std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(key.bytes_.data()));
  return key;
}

SecretKey::~SecretKey() { sodium_memzero(bytes_.data(), bytes_.size()); }

Curve25519KeyPair generate_curve25519() {
  detail::ensure_sodium();
  std::string seed(kKeyLength, '\0');
  randombytes_buf(seed.data(), seed.size());
  auto pair = curve25519_from_private(seed);
  wipe(seed);
  return std::move(*pair);
}

std::optional<Curve25519KeyPair> curve25519_from_private(std::string_view private_key) {
  auto secret = SecretKey::from_bytes(private_key);
  if (!secret) return std::nullopt;
  detail::ensure_sodium();
  Curve25519KeyPair pair{*secret, std::string(kKeyLength, '\0')};
  crypto_scalarmult_base(writable(pair.public_key), secret->data());
  return pair;
}

std::optional<SecretKey> curve25519_shared(const SecretKey& ours, std::string_view their_public) {
  if (their_public.size() != kKeyLength) return std::nullopt;
  detail::ensure_sodium();
  std::string shared(kKeyLength, '\0');
  if (crypto_scalarmult(writable(shared), ours.data(), bytes_of(their_public)) != 0) {
    return std::nullopt;
  }
  auto key = SecretKey::from_bytes(shared);
  wipe(shared);
  return key;
}

std::string hkdf_sha256(std::string_view salt, std::string_view input_key, std::string_view info,
                        size_t length) {
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr));
  std::string out(length, '\0');
  size_t out_length = length;
  // Every step fails only on allocation failure or a programming error (sizes are ours).
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) <= 0 ||
      EVP_PKEY_CTX_set_hkdf_md(ctx.get(), EVP_sha256()) <= 0 ||
      (!salt.empty() && EVP_PKEY_CTX_set1_hkdf_salt(ctx.get(), bytes_of(salt),
                                                    static_cast<int>(salt.size())) <= 0) ||
      EVP_PKEY_CTX_set1_hkdf_key(ctx.get(), bytes_of(input_key),
                                 static_cast<int>(input_key.size())) <= 0 ||
      EVP_PKEY_CTX_add1_hkdf_info(ctx.get(), bytes_of(info), static_cast<int>(info.size())) <= 0 ||
      EVP_PKEY_derive(ctx.get(), writable(out), &out_length) <= 0 || out_length != length) {
    std::abort();
  }
  return out;
}

std::optional<std::string> aes256_cbc_decrypt(std::string_view key, std::string_view iv,
                                              std::string_view ciphertext) {
  if (key.size() != 32 || iv.size() != 16) return std::nullopt;
  if (ciphertext.empty() || ciphertext.size() % 16 != 0) return std::nullopt;
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx(EVP_CIPHER_CTX_new());
  if (!ctx) std::abort();
  std::string out(ciphertext.size() + 16, '\0');
  int written = 0;
  int final_written = 0;
  if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_cbc(), nullptr, bytes_of(key), bytes_of(iv)) != 1 ||
      EVP_DecryptUpdate(ctx.get(), writable(out), &written, bytes_of(ciphertext),
                        static_cast<int>(ciphertext.size())) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), writable(out) + written, &final_written) != 1) {
    wipe(out);
    return std::nullopt;
  }
  out.resize(static_cast<size_t>(written + final_written));
  return out;
}

CipherKeys::~CipherKeys() {
  wipe(aes_key);
  wipe(mac_key);
  wipe(aes_iv);
}

CipherKeys derive_cipher_keys(std::string_view secret, std::string_view info) {
  std::string material = hkdf_sha256("", secret, info, 80);
  CipherKeys keys{material.substr(0, 32), material.substr(32, 32), material.substr(64, 16)};
  wipe(material);
  return keys;
}

std::optional<std::string> check_mac_and_decrypt(const CipherKeys& keys,
                                                 std::string_view authenticated,
                                                 std::string_view mac,
                                                 std::string_view ciphertext) {
  const std::string full_mac = hmac_sha256(keys.mac_key, authenticated);
  if (mac.size() != kMacLength ||
      !constant_time_equal(std::string_view(full_mac).substr(0, kMacLength), mac)) {
    return std::nullopt;
  }
  return aes256_cbc_decrypt(keys.aes_key, keys.aes_iv, ciphertext);
}

void wipe(std::string& secret) {
  if (!secret.empty()) sodium_memzero(secret.data(), secret.size());
}

}  // namespace haven::crypto::olm
