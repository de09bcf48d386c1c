// Building blocks shared by Olm and Megolm (crypto/olm_*.h, crypto/megolm_*.h): Curve25519 key
// pairs and ECDH (libsodium), HKDF-SHA-256 and AES-256-CBC (OpenSSL), the truncated MAC check and
// the key derivation both protocols use. Raw byte strings in and out. Any thread.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace haven::crypto::olm {

inline constexpr size_t kKeyLength = 32;  // Curve25519 keys, root / chain / message keys
inline constexpr size_t kMacLength = 8;   // Olm and Megolm MACs are truncated HMAC-SHA-256

// 32 secret bytes, zeroed on destruction.
class SecretKey {
 public:
  SecretKey() = default;
  // `bytes` must hold exactly 32 bytes; nullopt otherwise.
  static std::optional<SecretKey> from_bytes(std::string_view bytes);
  SecretKey(const SecretKey&) = default;
  SecretKey& operator=(const SecretKey&) = default;
  ~SecretKey();

  std::string_view view() const {
    return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
  }
  const unsigned char* data() const { return bytes_.data(); }

 private:
  std::array<unsigned char, kKeyLength> bytes_{};
};

// A Curve25519 key pair; public_key is the 32 raw bytes.
struct Curve25519KeyPair {
  SecretKey private_key;
  std::string public_key;
};

Curve25519KeyPair generate_curve25519();
std::optional<Curve25519KeyPair> curve25519_from_private(std::string_view private_key);
// X25519(our private, their public); nullopt when `their_public` is not 32 bytes or is a
// low-order point (the shared secret would be all zeros).
std::optional<SecretKey> curve25519_shared(const SecretKey& ours, std::string_view their_public);

// RFC 5869 HKDF-SHA-256; an empty salt means the default (HashLen zero bytes).
std::string hkdf_sha256(std::string_view salt, std::string_view input_key, std::string_view info,
                        size_t length);
// AES-256-CBC with PKCS#7 padding; nullopt when the key/iv sizes are wrong or the padding is bad.
std::optional<std::string> aes256_cbc_decrypt(std::string_view key, std::string_view iv,
                                              std::string_view ciphertext);

// The AES key, HMAC key and IV both protocols derive from a message key (Olm) or the ratchet
// (Megolm) with HKDF(no salt, secret, info, 80).
struct CipherKeys {
  std::string aes_key;  // 32 bytes
  std::string mac_key;  // 32 bytes
  std::string aes_iv;   // 16 bytes
  ~CipherKeys();
};
CipherKeys derive_cipher_keys(std::string_view secret, std::string_view info);

// Checks the 8-byte truncated HMAC-SHA-256 of `authenticated` under keys.mac_key, then decrypts.
std::optional<std::string> check_mac_and_decrypt(const CipherKeys& keys,
                                                 std::string_view authenticated,
                                                 std::string_view mac, std::string_view ciphertext);

// Overwrites a string holding secret bytes with zeros (its size stays).
void wipe(std::string& secret);

}  // namespace haven::crypto::olm
