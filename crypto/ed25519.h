// Ed25519 signing keys (libsodium). The secret is zeroed on destruction.
// A SigningKey is immutable after construction and may be shared across threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace haven::crypto {

class SigningKey {
 public:
  static SigningKey generate(std::string version);  // version: the part after "ed25519:"
  // From a 32-byte seed (the form Synapse stores: "ed25519 <version> <unpadded b64 seed>").
  static std::optional<SigningKey> from_seed(std::string_view seed, std::string version);
  // Parses / writes Synapse's signing key file line format.
  static std::optional<SigningKey> from_file_line(std::string_view line);
  std::string to_file_line() const;

  SigningKey(const SigningKey&);
  SigningKey& operator=(const SigningKey&);
  ~SigningKey();

  std::string key_id() const { return "ed25519:" + version_; }  // e.g. "ed25519:a_xyz"
  const std::string& version() const { return version_; }
  const std::string& public_key() const { return public_; }  // 32 raw bytes
  std::string seed() const;                                  // 32 raw bytes
  std::string sign(std::string_view message) const;          // 64 raw bytes

 private:
  SigningKey() = default;
  std::string version_;
  std::string public_;
  unsigned char secret_[64] = {};  // libsodium secret key (seed || public)
};

bool ed25519_verify(std::string_view public_key, std::string_view message,
                    std::string_view signature);

}  // namespace haven::crypto
