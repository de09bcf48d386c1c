#include "crypto/hash.h"

#include <boost/test/unit_test.hpp>
#include <string>

namespace haven::crypto {
namespace {

const std::string kRfcText = "Test Using Larger Than Block-Size Key - Hash Key First";

BOOST_AUTO_TEST_SUITE(hash_suite)

BOOST_AUTO_TEST_CASE(sha256_matches_fips_180_vectors) {
  BOOST_TEST(to_hex(sha256("")) ==
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  BOOST_TEST(to_hex(sha256("abc")) ==
             "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// RFC 4231 test cases 1, 2 and 6 (the last with a key longer than the block size).
BOOST_AUTO_TEST_CASE(hmac_sha256_matches_rfc_4231_vectors) {
  BOOST_TEST(to_hex(hmac_sha256(std::string(20, '\x0b'), "Hi There")) ==
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  BOOST_TEST(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")) ==
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  BOOST_TEST(to_hex(hmac_sha256(std::string(131, '\xaa'), kRfcText)) ==
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

// RFC 2202 test cases 1, 2 and 6.
BOOST_AUTO_TEST_CASE(hmac_sha1_matches_rfc_2202_vectors) {
  BOOST_TEST(to_hex(hmac_sha1(std::string(20, '\x0b'), "Hi There")) ==
             "b617318655057264e28bc0b6fb378c8ef146be00");
  BOOST_TEST(to_hex(hmac_sha1("Jefe", "what do ya want for nothing?")) ==
             "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  BOOST_TEST(to_hex(hmac_sha1(std::string(80, '\xaa'), kRfcText)) ==
             "aa4ae5e15272d00e95705637ce8a3b55ed402112");
}

BOOST_AUTO_TEST_CASE(hmacs_accept_an_empty_key) {
  // Not a vector from an RFC: checked against Python's hmac module.
  BOOST_TEST(to_hex(hmac_sha1("", "")) == "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d");
  BOOST_TEST(to_hex(hmac_sha256("", "")) ==
             "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

BOOST_AUTO_TEST_CASE(to_hex_is_lowercase_and_keeps_leading_zeros) {
  BOOST_TEST(to_hex(std::string("\x00\x0f\xab\xff", 4)) == "000fabff");
  BOOST_TEST(to_hex("") == "");
}

BOOST_AUTO_TEST_CASE(constant_time_equal_compares_content_and_length) {
  BOOST_TEST(constant_time_equal("secret", "secret"));
  BOOST_TEST(!constant_time_equal("secret", "secreT"));
  BOOST_TEST(!constant_time_equal("secret", "secret2"));
  BOOST_TEST(!constant_time_equal("", "x"));
  BOOST_TEST(constant_time_equal("", ""));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace haven::crypto
