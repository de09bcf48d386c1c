#include "crypto/password.h"

#include <boost/test/unit_test.hpp>
#include <string>

namespace haven::crypto {
namespace {

BOOST_AUTO_TEST_SUITE(password_suite)

// One hash shared by the cases: argon2id is slow on purpose, more so under the sanitizers.
const std::string& correct_horse_hash() {
  static const std::string hash = hash_password("correct horse battery staple").value_or("");
  return hash;
}

BOOST_AUTO_TEST_CASE(hash_is_an_argon2id_string_with_interactive_limits) {
  // m=65536 KiB and t=2: libsodium's INTERACTIVE limits.
  BOOST_TEST(correct_horse_hash().starts_with("$argon2id$v=19$m=65536,t=2,p=1$"));
}

BOOST_AUTO_TEST_CASE(the_right_password_verifies) {
  BOOST_TEST(verify_password("correct horse battery staple", correct_horse_hash()));
}

BOOST_AUTO_TEST_CASE(a_wrong_password_does_not_verify) {
  BOOST_TEST(!verify_password("correct horse battery stapler", correct_horse_hash()));
  BOOST_TEST(!verify_password("", correct_horse_hash()));
}

BOOST_AUTO_TEST_CASE(hashing_the_same_password_twice_uses_different_salts) {
  const auto again = hash_password("correct horse battery staple");
  BOOST_REQUIRE(again.has_value());
  BOOST_TEST(*again != correct_horse_hash());
  BOOST_TEST(verify_password("correct horse battery staple", *again));
}

BOOST_AUTO_TEST_CASE(empty_and_binary_passwords_hash_and_verify) {
  const auto empty = hash_password("");
  BOOST_REQUIRE(empty.has_value());
  BOOST_TEST(verify_password("", *empty));
  BOOST_TEST(!verify_password("x", *empty));
  const std::string binary("a\0b", 3);
  const auto hashed = hash_password(binary);
  BOOST_REQUIRE(hashed.has_value());
  BOOST_TEST(verify_password(binary, *hashed));
  BOOST_TEST(!verify_password("a", *hashed));  // the NUL does not end the password
}

BOOST_AUTO_TEST_CASE(malformed_hashes_never_verify) {
  BOOST_TEST(!verify_password("pw", ""));
  BOOST_TEST(!verify_password("pw", "not a hash"));
  BOOST_TEST(!verify_password("pw", correct_horse_hash().substr(0, 40)));
  BOOST_TEST(!verify_password("pw", std::string(500, '$')));
  std::string with_nul = correct_horse_hash();
  with_nul[5] = '\0';
  BOOST_TEST(!verify_password("correct horse battery staple", with_nul));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace haven::crypto
