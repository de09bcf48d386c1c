// Helpers shared by the Olm / Megolm unit tests. Test thread only.
#pragma once

#include <boost/test/unit_test.hpp>
#include <string>
#include <string_view>

#include "crypto/base64.h"
#include "crypto/olm_account.h"
#include "tests/unit/crypto/olm_vectors.h"
#include "tests/unit/crypto/test_util.h"

namespace haven::crypto::olm::test {

// The receiving account of the vectors: fixed identity keys, one-time keys 0..2, fallback key.
inline Account vector_receiver() {
  Account::PrivateKeys keys;
  keys.curve25519 = crypto::test::from_hex(vectors::kReceiverIdentityPrivateHex);
  keys.ed25519_seed = crypto::test::from_hex(vectors::kReceiverEd25519SeedHex);
  for (const std::string_view hex : vectors::kReceiverOneTimePrivateHex) {
    keys.one_time.push_back(crypto::test::from_hex(hex));
  }
  keys.fallback = crypto::test::from_hex(vectors::kReceiverFallbackPrivateHex);
  auto account = Account::from_private_keys(keys);
  BOOST_REQUIRE(account.has_value());
  return std::move(*account);
}

// `body_b64` decoded, with `flip` xor-ed into the byte at `offset` from the end, re-encoded.
inline std::string flip_byte_from_end(std::string_view body_b64, size_t offset,
                                      unsigned char flip = 0x01) {
  auto raw = base64_decode(body_b64);
  BOOST_REQUIRE(raw.has_value());
  BOOST_REQUIRE(offset < raw->size());
  (*raw)[raw->size() - 1 - offset] = static_cast<char>((*raw)[raw->size() - 1 - offset] ^ flip);
  return base64_encode(*raw);
}

inline std::string truncated(std::string_view body_b64, size_t drop) {
  auto raw = base64_decode(body_b64);
  BOOST_REQUIRE(raw.has_value());
  BOOST_REQUIRE(drop <= raw->size());
  return base64_encode(raw->substr(0, raw->size() - drop));
}

// The serialized form `bytes` reads back, and nothing damaged does: empty, truncated, with a
// byte too many, or of another version.
template <class T>
void check_refuses_damaged(const std::string& bytes) {
  BOOST_REQUIRE(T::deserialize(bytes).has_value());
  BOOST_TEST(!T::deserialize("").has_value());
  BOOST_TEST(!T::deserialize(bytes.substr(0, bytes.size() - 1)).has_value());
  BOOST_TEST(!T::deserialize(bytes + "x").has_value());
  std::string other_version = bytes;
  other_version[0] = static_cast<char>(other_version[0] + 1);
  BOOST_TEST(!T::deserialize(other_version).has_value());
}

}  // namespace haven::crypto::olm::test
