#include "crypto/base64.h"

#include <boost/test/unit_test.hpp>
#include <string>

namespace haven::crypto {
namespace {

// "?" when decoding fails, so comparisons print something readable.
std::string decoded(std::string_view text) { return base64_decode(text).value_or("?"); }

struct Vector {
  std::string_view plain;
  std::string_view encoded;
};

// The appendix "Unpadded Base64" examples.
constexpr Vector kAppendixVectors[] = {
    {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
    {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
};

// Bytes whose encodings use the 62nd and 63rd characters: "+/" in one alphabet, "-_" in the
// other.
const std::string kHighBytes("\xfb\xff\xbf\xfe", 4);

BOOST_AUTO_TEST_SUITE(base64_suite)

BOOST_AUTO_TEST_CASE(appendix_examples_encode_unpadded) {
  for (const auto& v : kAppendixVectors) {
    BOOST_TEST_CONTEXT("plain: " << v.plain) {
      BOOST_TEST(base64_encode(v.plain) == v.encoded);
      BOOST_TEST(decoded(v.encoded) == v.plain);
    }
  }
}

BOOST_AUTO_TEST_CASE(padded_input_decodes) {
  BOOST_TEST(decoded("Zg==") == "f");
  BOOST_TEST(decoded("Zm8=") == "fo");
  BOOST_TEST(decoded("Zm9v") == "foo");
}

BOOST_AUTO_TEST_CASE(wrong_padding_is_refused) {
  BOOST_TEST(!base64_decode("Zg=").has_value());
  BOOST_TEST(!base64_decode("Zg===").has_value());
  BOOST_TEST(!base64_decode("Zm8==").has_value());
  BOOST_TEST(!base64_decode("=").has_value());
  BOOST_TEST(!base64_decode("Zm9v====").has_value());
  BOOST_TEST(!base64_decode("Zm9v==").has_value());
}

BOOST_AUTO_TEST_CASE(standard_and_urlsafe_alphabets_differ_only_in_two_characters) {
  BOOST_TEST(base64_encode(kHighBytes) == "+/+//g");
  BOOST_TEST(base64_encode_urlsafe(kHighBytes) == "-_-__g");
}

BOOST_AUTO_TEST_CASE(decode_accepts_either_alphabet) {
  BOOST_TEST(decoded("+/+//g") == kHighBytes);
  BOOST_TEST(decoded("-_-__g") == kHighBytes);
  BOOST_TEST(decoded("-_-__g==") == kHighBytes);
}

BOOST_AUTO_TEST_CASE(mixed_alphabets_are_refused) {
  BOOST_TEST(!base64_decode("+_-/").has_value());
}

BOOST_AUTO_TEST_CASE(garbage_is_refused) {
  BOOST_TEST(!base64_decode("Zm9v!").has_value());
  BOOST_TEST(!base64_decode("Zm 9v").has_value());
  BOOST_TEST(!base64_decode("Zm9v\n").has_value());
  BOOST_TEST(!base64_decode(std::string_view("Zm\0v", 4)).has_value());
  BOOST_TEST(!base64_decode("Z").has_value());      // one character holds no whole byte
  BOOST_TEST(!base64_decode("Zm9vY").has_value());  // nor does a trailing single character
  BOOST_TEST(!base64_decode("Zg==Zg").has_value());
}

BOOST_AUTO_TEST_CASE(non_zero_unused_bits_in_the_last_character_are_ignored) {
  // Other implementations write them; the spec's own test seed ends "...XA1", whose last two
  // bits are unused and set.
  BOOST_TEST(decoded("Zh") == "f");  // canonical: "Zg"
  BOOST_TEST(decoded("Zh==") == "f");
  BOOST_TEST(decoded("Zm9=") == "fo");  // canonical: "Zm8"
  BOOST_TEST(decoded("-_-__h") == kHighBytes);
  const auto seed = base64_decode("YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1");
  BOOST_REQUIRE(seed.has_value());
  BOOST_TEST(seed->size() == 32u);
  BOOST_TEST(base64_encode(*seed) == "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA0");
}

BOOST_AUTO_TEST_CASE(every_length_and_byte_round_trips) {
  std::string bytes;
  for (int i = 0; i < 300; ++i) {
    bytes += static_cast<char>(i * 7 + 3);
    BOOST_TEST_CONTEXT("length " << bytes.size()) {
      BOOST_TEST(decoded(base64_encode(bytes)) == bytes);
      BOOST_TEST(decoded(base64_encode_urlsafe(bytes)) == bytes);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace haven::crypto
