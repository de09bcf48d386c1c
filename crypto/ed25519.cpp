#include "crypto/ed25519.h"

#include <sodium.h>

#include <cstring>

#include "crypto/base64.h"
#include "crypto/sodium_init.h"

namespace haven::crypto {
namespace {

static_assert(crypto_sign_SECRETKEYBYTES == 64);
static_assert(crypto_sign_SEEDBYTES == 32);
static_assert(crypto_sign_PUBLICKEYBYTES == 32);
static_assert(crypto_sign_BYTES == 64);

// Never null, even for an empty view: libsodium may memcpy from it.
const unsigned char* bytes_of(std::string_view s) {
  static const unsigned char kEmpty = 0;
  return s.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(s.data());
}

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// The next run of non-blank characters in `s`, consuming it and the blanks before it.
std::string_view next_field(std::string_view& s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  size_t end = 0;
  while (end < s.size() && !is_blank(s[end])) ++end;
  std::string_view field = s.substr(0, end);
  s.remove_prefix(end);
  return field;
}

}  // namespace

SigningKey SigningKey::generate(std::string version) {
  detail::ensure_sodium();
  unsigned char seed[crypto_sign_SEEDBYTES];
  randombytes_buf(seed, sizeof seed);
  auto key = from_seed(std::string_view(reinterpret_cast<const char*>(seed), sizeof seed),
                       std::move(version));
  sodium_memzero(seed, sizeof seed);
  return *key;  // a 32-byte seed always makes a key
}

std::optional<SigningKey> SigningKey::from_seed(std::string_view seed, std::string version) {
  if (seed.size() != crypto_sign_SEEDBYTES) return std::nullopt;
  detail::ensure_sodium();
  SigningKey key;
  key.version_ = std::move(version);
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  crypto_sign_seed_keypair(pk, key.secret_, bytes_of(seed));
  key.public_.assign(reinterpret_cast<const char*>(pk), sizeof pk);
  return key;
}

std::optional<SigningKey> SigningKey::from_file_line(std::string_view line) {
  // "ed25519 <version> <unpadded base64 seed>", as Synapse writes it; like Synapse, any run of
  // blanks separates the fields and surrounding blanks (the trailing newline) are ignored.
  const std::string_view algorithm = next_field(line);
  const std::string_view version = next_field(line);
  const std::string_view encoded = next_field(line);
  if (algorithm != "ed25519" || version.empty() || !next_field(line).empty()) {
    return std::nullopt;
  }
  auto seed = base64_decode(encoded);
  if (!seed) return std::nullopt;
  auto key = from_seed(*seed, std::string(version));
  sodium_memzero(seed->data(), seed->size());
  return key;
}

std::string SigningKey::to_file_line() const {
  std::string s = seed();
  std::string line = "ed25519 " + version_ + " " + base64_encode(s);
  sodium_memzero(s.data(), s.size());
  return line;
}

SigningKey::SigningKey(const SigningKey& other) : version_(other.version_), public_(other.public_) {
  std::memcpy(secret_, other.secret_, sizeof secret_);
}

SigningKey& SigningKey::operator=(const SigningKey& other) {
  if (this != &other) {
    version_ = other.version_;
    public_ = other.public_;
    std::memcpy(secret_, other.secret_, sizeof secret_);
  }
  return *this;
}

SigningKey::~SigningKey() { sodium_memzero(secret_, sizeof secret_); }

std::string SigningKey::seed() const {
  // libsodium's secret key is the seed followed by the public key.
  return std::string(reinterpret_cast<const char*>(secret_), crypto_sign_SEEDBYTES);
}

std::string SigningKey::sign(std::string_view message) const {
  std::string signature(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(signature.data()), nullptr,
                       bytes_of(message), message.size(), secret_);
  return signature;
}

bool ed25519_verify(std::string_view public_key, std::string_view message,
                    std::string_view signature) {
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES || signature.size() != crypto_sign_BYTES) {
    return false;
  }
  detail::ensure_sodium();
  return crypto_sign_verify_detached(bytes_of(signature), bytes_of(message), message.size(),
                                     bytes_of(public_key)) == 0;
}

}  // namespace haven::crypto
