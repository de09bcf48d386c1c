#include "crypto/ed25519.h"

#include <boost/test/unit_test.hpp>
#include <string>

#include "crypto/base64.h"
#include "crypto/hash.h"
#include "tests/unit/crypto/test_util.h"

namespace haven::crypto {
namespace {

using test::from_hex;

// RFC 8032 section 7.1, TEST 1 (empty message).
const std::string kRfcSeed =
    from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
const std::string kRfcPublic =
    from_hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
const std::string kRfcSignature = from_hex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b4"
    "6bd25bf5f0595bbe24655141438e7a100b");

// The seed of the spec appendix "Cryptographic Test Vectors".
constexpr std::string_view kSpecKeyLine = "ed25519 1 YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1";

SigningKey rfc_key() {
  auto key = SigningKey::from_seed(kRfcSeed, "rfc");
  BOOST_REQUIRE(key.has_value());
  return *key;
}

BOOST_AUTO_TEST_SUITE(ed25519_suite)

BOOST_AUTO_TEST_CASE(seed_gives_the_rfc_8032_public_key_and_signature) {
  const SigningKey key = rfc_key();
  BOOST_TEST(to_hex(key.public_key()) == to_hex(kRfcPublic));
  BOOST_TEST(to_hex(key.sign("")) == to_hex(kRfcSignature));
  BOOST_TEST(key.seed() == kRfcSeed);
  BOOST_TEST(key.key_id() == "ed25519:rfc");
  BOOST_TEST(key.version() == "rfc");
}

BOOST_AUTO_TEST_CASE(verify_accepts_the_rfc_8032_signature) {
  BOOST_TEST(ed25519_verify(kRfcPublic, "", kRfcSignature));
}

BOOST_AUTO_TEST_CASE(verify_refuses_a_changed_message_signature_or_key) {
  const SigningKey key = rfc_key();
  const std::string signature = key.sign("hello");
  BOOST_TEST(ed25519_verify(key.public_key(), "hello", signature));
  BOOST_TEST(!ed25519_verify(key.public_key(), "hellO", signature));
  std::string flipped = signature;
  flipped[10] ^= 0x01;
  BOOST_TEST(!ed25519_verify(key.public_key(), "hello", flipped));
  const SigningKey other = SigningKey::generate("other");
  BOOST_TEST(!ed25519_verify(other.public_key(), "hello", signature));
}

BOOST_AUTO_TEST_CASE(verify_refuses_wrong_lengths) {
  const SigningKey key = rfc_key();
  const std::string signature = key.sign("m");
  BOOST_TEST(!ed25519_verify(key.public_key().substr(1), "m", signature));
  BOOST_TEST(!ed25519_verify(key.public_key(), "m", signature.substr(1)));
  BOOST_TEST(!ed25519_verify(key.public_key(), "m", signature + "x"));
  BOOST_TEST(!ed25519_verify("", "m", ""));
}

BOOST_AUTO_TEST_CASE(from_seed_refuses_a_seed_that_is_not_32_bytes) {
  BOOST_TEST(!SigningKey::from_seed(std::string(31, 'a'), "v").has_value());
  BOOST_TEST(!SigningKey::from_seed(std::string(64, 'a'), "v").has_value());
}

BOOST_AUTO_TEST_CASE(generated_keys_differ_and_sign_verifiably) {
  const SigningKey a = SigningKey::generate("a");
  const SigningKey b = SigningKey::generate("b");
  BOOST_TEST(a.public_key().size() == 32u);
  BOOST_TEST(a.seed() != b.seed());
  BOOST_TEST(ed25519_verify(a.public_key(), "msg", a.sign("msg")));
}

BOOST_AUTO_TEST_CASE(copies_hold_the_same_key) {
  const SigningKey original = rfc_key();
  SigningKey copy(original);
  BOOST_TEST(copy.sign("m") == original.sign("m"));
  SigningKey assigned = SigningKey::generate("x");
  assigned = original;
  BOOST_TEST(assigned.sign("m") == original.sign("m"));
  BOOST_TEST(assigned.key_id() == original.key_id());
}

BOOST_AUTO_TEST_CASE(key_file_line_round_trips) {
  const SigningKey key = SigningKey::generate("a_XyZ1");
  const std::string line = key.to_file_line();
  BOOST_TEST(line.starts_with("ed25519 a_XyZ1 "));
  BOOST_TEST(line.size() == std::string("ed25519 a_XyZ1 ").size() + 43);  // unpadded 32 bytes
  const auto parsed = SigningKey::from_file_line(line);
  BOOST_REQUIRE(parsed.has_value());
  BOOST_TEST(parsed->version() == "a_XyZ1");
  BOOST_TEST(parsed->seed() == key.seed());
  BOOST_TEST(parsed->public_key() == key.public_key());
}

BOOST_AUTO_TEST_CASE(spec_key_line_parses_and_is_written_back_in_canonical_base64) {
  // The spec's seed sets two unused bits in its last character; we write them as zero.
  const auto key = SigningKey::from_file_line(kSpecKeyLine);
  BOOST_REQUIRE(key.has_value());
  BOOST_TEST(key->key_id() == "ed25519:1");
  BOOST_TEST(key->to_file_line() == "ed25519 1 YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA0");
  const auto again = SigningKey::from_file_line(key->to_file_line());
  BOOST_REQUIRE(again.has_value());
  BOOST_TEST(again->public_key() == key->public_key());
}

BOOST_AUTO_TEST_CASE(key_file_line_tolerates_surrounding_blanks_and_padding) {
  const auto key = SigningKey::from_file_line(std::string(kSpecKeyLine) + "\n");
  BOOST_REQUIRE(key.has_value());
  const auto padded =
      SigningKey::from_file_line("  ed25519\t1  YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1=\r\n");
  BOOST_REQUIRE(padded.has_value());
  BOOST_TEST(padded->seed() == key->seed());
}

BOOST_AUTO_TEST_CASE(malformed_key_file_lines_are_refused) {
  const std::string seed = "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1";
  BOOST_TEST(!SigningKey::from_file_line("").has_value());
  BOOST_TEST(!SigningKey::from_file_line("ed25519 1").has_value());
  BOOST_TEST(!SigningKey::from_file_line("curve25519 1 " + seed).has_value());
  BOOST_TEST(!SigningKey::from_file_line("ed25519 1 " + seed + " extra").has_value());
  BOOST_TEST(!SigningKey::from_file_line("ed25519 1 " + seed.substr(0, 42) + "!").has_value());
  BOOST_TEST(
      !SigningKey::from_file_line("ed25519 1 " + base64_encode(std::string(31, 'k'))).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace haven::crypto
