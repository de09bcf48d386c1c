#include "crypto/random.h"

#include <sodium.h>

#include "crypto/sodium_init.h"

namespace haven::crypto {

std::string random_bytes(size_t n) {
  detail::ensure_sodium();
  std::string out(n, '\0');
  randombytes_buf(out.data(), out.size());
  return out;
}

std::string random_token(size_t n) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  static constexpr uint32_t kAlphabetSize = sizeof kAlphabet - 1;
  detail::ensure_sodium();
  std::string out(n, '\0');
  // randombytes_uniform() rejects out-of-range draws, so no character is favoured (a plain
  // `byte % 62` would favour the first 8).
  for (char& c : out) c = kAlphabet[randombytes_uniform(kAlphabetSize)];
  return out;
}

}  // namespace haven::crypto
