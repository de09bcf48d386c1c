#include "crypto/secretbox.h"

#include <boost/test/unit_test.hpp>
#include <stdexcept>
#include <string>

namespace haven::crypto {
namespace {

// "?" when opening fails, so comparisons print something readable.
std::string opened(std::string_view key, std::string_view sealed, std::string_view ad = {}) {
  return secretbox_open(key, sealed, ad).value_or("?");
}

BOOST_AUTO_TEST_SUITE(secretbox_suite)

BOOST_AUTO_TEST_CASE(new_keys_are_32_random_bytes) {
  const std::string a = new_secret_key();
  BOOST_TEST(a.size() == kSecretKeyBytes);
  BOOST_TEST(a != new_secret_key());
}

BOOST_AUTO_TEST_CASE(sealed_content_opens_with_the_same_key) {
  const std::string key = new_secret_key();
  const std::string plaintext = R"({"body":"hello","msgtype":"m.text"})";
  const std::string sealed = secretbox_seal(key, plaintext);
  BOOST_TEST(sealed.size() == plaintext.size() + kSecretboxOverhead);
  BOOST_TEST(sealed.find("hello") == std::string::npos);
  BOOST_TEST(opened(key, sealed) == plaintext);
}

BOOST_AUTO_TEST_CASE(empty_and_binary_plaintexts_round_trip) {
  const std::string key = new_secret_key();
  const auto empty = secretbox_open(key, secretbox_seal(key, ""));
  BOOST_REQUIRE(empty.has_value());
  BOOST_TEST(empty->empty());
  const std::string binary("\0\xff\x01", 3);
  BOOST_TEST(opened(key, secretbox_seal(key, binary)) == binary);
}

BOOST_AUTO_TEST_CASE(sealing_twice_gives_different_bytes) {
  const std::string key = new_secret_key();
  BOOST_TEST(secretbox_seal(key, "same") != secretbox_seal(key, "same"));
}

BOOST_AUTO_TEST_CASE(any_flipped_bit_is_detected) {
  const std::string key = new_secret_key();
  const std::string sealed = secretbox_seal(key, "secret");
  // Nonce, ciphertext and tag alike.
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string tampered = sealed;
    tampered[i] ^= 0x04;
    BOOST_TEST_CONTEXT("byte " << i) { BOOST_TEST(!secretbox_open(key, tampered).has_value()); }
  }
}

BOOST_AUTO_TEST_CASE(truncated_or_extended_boxes_do_not_open) {
  const std::string key = new_secret_key();
  const std::string sealed = secretbox_seal(key, "secret");
  BOOST_TEST(!secretbox_open(key, sealed.substr(0, sealed.size() - 1)).has_value());
  BOOST_TEST(!secretbox_open(key, sealed + "x").has_value());
  BOOST_TEST(!secretbox_open(key, "").has_value());
  BOOST_TEST(!secretbox_open(key, sealed.substr(0, kSecretboxOverhead - 1)).has_value());
}

BOOST_AUTO_TEST_CASE(another_key_cannot_open) {
  const std::string sealed = secretbox_seal(new_secret_key(), "secret");
  BOOST_TEST(!secretbox_open(new_secret_key(), sealed).has_value());
}

BOOST_AUTO_TEST_CASE(associated_data_must_match_to_open) {
  const std::string key = new_secret_key();
  const std::string sealed = secretbox_seal(key, "secret", "$event1");
  BOOST_TEST(opened(key, sealed, "$event1") == "secret");
  BOOST_TEST(!secretbox_open(key, sealed, "$event2").has_value());
  BOOST_TEST(!secretbox_open(key, sealed).has_value());
}

BOOST_AUTO_TEST_CASE(a_key_of_the_wrong_length_is_refused) {
  BOOST_CHECK_THROW(secretbox_seal(std::string(31, 'k'), "x"), std::invalid_argument);
  const std::string key = new_secret_key();
  const std::string sealed = secretbox_seal(key, "x");
  BOOST_TEST(!secretbox_open(key.substr(1), sealed).has_value());
  BOOST_TEST(!secretbox_open(key + "k", sealed).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace haven::crypto
