#include "crypto/random.h"

#include <boost/test/unit_test.hpp>
#include <set>
#include <string>

namespace haven::crypto {
namespace {

const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

BOOST_AUTO_TEST_SUITE(random_suite)

BOOST_AUTO_TEST_CASE(random_bytes_have_the_asked_length_and_differ_between_calls) {
  BOOST_TEST(random_bytes(0).empty());
  const std::string a = random_bytes(32);
  const std::string b = random_bytes(32);
  BOOST_TEST(a.size() == 32u);
  BOOST_TEST(a != b);  // equal with probability 2^-256
}

BOOST_AUTO_TEST_CASE(random_token_uses_only_letters_and_digits) {
  const std::string token = random_token(5000);
  BOOST_TEST(token.size() == 5000u);
  BOOST_TEST(token.find_first_not_of(kAlphabet) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(random_token_reaches_every_letter_and_digit) {
  // 20000 draws miss a given character with probability (61/62)^20000, about 1e-142.
  const std::string token = random_token(20000);
  const std::set<char> seen(token.begin(), token.end());
  BOOST_TEST(seen.size() == kAlphabet.size());
}

BOOST_AUTO_TEST_CASE(random_tokens_differ_between_calls) {
  BOOST_TEST(random_token(32) != random_token(32));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace haven::crypto
