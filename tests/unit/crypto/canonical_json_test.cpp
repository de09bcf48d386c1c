#include "crypto/canonical_json.h"

#include <boost/test/unit_test.hpp>
#include <string>

#include "tests/unit/crypto/test_util.h"

namespace haven::crypto {
namespace {

using test::parse_json;

// The encoding, or "REFUSED: <error>" so a failing comparison shows why.
std::string show(const std::optional<std::string>& out, const std::string& error) {
  return out ? *out : "REFUSED: " + error;
}

std::string canonical(const rapidjson::Value& value) {
  std::string error;
  const auto out = canonical_json(value, &error);
  return show(out, error);
}

std::string canonical(std::string_view json) { return canonical(parse_json(json)); }

// Refused, and the error says why.
std::string refusal(std::string_view json) {
  std::string error;
  const auto out = canonical_json(parse_json(json), &error);
  BOOST_TEST(!out.has_value());
  BOOST_TEST(!error.empty());
  return error;
}

struct Example {
  std::string_view input;
  std::string_view expected;
};

// The examples of the spec appendix "Canonical JSON", input and expected output verbatim.
constexpr Example kAppendixExamples[] = {
    {R"({})", R"({})"},
    {R"({
    "one": 1,
    "two": "Two"
})",
     R"({"one":1,"two":"Two"})"},
    {R"({
    "b": "2",
    "a": "1"
})",
     R"({"a":"1","b":"2"})"},
    {R"({"b":"2","a":"1"})", R"({"a":"1","b":"2"})"},
    {R"({
    "auth": {
        "success": true,
        "mxid": "@john.doe:example.com",
        "profile": {
            "display_name": "John Doe",
            "three_pids": [
                {
                    "medium": "email",
                    "address": "john.doe@example.org"
                },
                {
                    "medium": "msisdn",
                    "address": "123456789"
                }
            ]
        }
    }
})",
     R"({"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe","three_pids":[{"address":"john.doe@example.org","medium":"email"},{"address":"123456789","medium":"msisdn"}]},"success":true}})"},
    {R"({
    "a": "日本語"
})",
     R"({"a":"日本語"})"},
    {R"({
    "本": 2,
    "日": 1
})",
     R"({"日":1,"本":2})"},
    {R"({
    "a": "\u65E5"
})",
     R"({"a":"日"})"},
    {R"({
    "a": null
})",
     R"({"a":null})"},
};

BOOST_AUTO_TEST_SUITE(canonical_json_suite)

BOOST_AUTO_TEST_CASE(appendix_examples_produce_the_expected_encoding) {
  for (const auto& example : kAppendixExamples) {
    BOOST_TEST_CONTEXT("input: " << example.input) {
      BOOST_TEST(canonical(example.input) == example.expected);
    }
  }
}

BOOST_AUTO_TEST_CASE(negative_zero_is_written_as_zero) {
  // The first half of the appendix's last example: {"a": -0} encodes as {"a":0}.
  BOOST_TEST(canonical(R"({"a": -0})") == R"({"a":0})");
}

BOOST_AUTO_TEST_CASE(appendix_exponent_example_is_refused_because_1e10_is_a_float) {
  // The appendix expects {"a": -0, "b": 1e10} -> {"a":0,"b":10000000000}. Haven deliberately
  // refuses it: 1e10 is written as a float, and room versions 6+ forbid numbers "formatted as
  // floats"; Synapse rejects the same input.
  refusal(R"({"a": -0, "b": 1e10})");
}

BOOST_AUTO_TEST_CASE(floats_are_refused_even_when_integral) {
  BOOST_TEST(refusal(R"({"a": 1.0})").find("float") != std::string::npos);
  refusal(R"({"a": 0.5})");
  refusal(R"([1, 2, -3.25])");
  refusal(R"({"deep": {"er": [{"x": 2e3}]}})");
}

BOOST_AUTO_TEST_CASE(integers_at_the_safe_limits_are_accepted) {
  BOOST_TEST(canonical("[9007199254740991,-9007199254740991,0,-1]") ==
             "[9007199254740991,-9007199254740991,0,-1]");
}

BOOST_AUTO_TEST_CASE(integers_beyond_the_safe_limits_are_refused) {
  BOOST_TEST(refusal("[9007199254740992]").find("range") != std::string::npos);
  BOOST_TEST(refusal("[-9007199254740992]").find("range") != std::string::npos);
  refusal("[9223372036854775807]");   // int64 max
  refusal("[-9223372036854775808]");  // int64 min
  refusal("[18446744073709551615]");  // only fits uint64
  refusal("[18446744073709551616]");  // fits nothing, rapidjson makes it a double
}

BOOST_AUTO_TEST_CASE(control_characters_use_short_escapes_where_they_exist) {
  BOOST_TEST(canonical(R"(["\b\t\n\f\r"])") == R"(["\b\t\n\f\r"])");
}

BOOST_AUTO_TEST_CASE(other_control_characters_use_lowercase_u00_escapes) {
  BOOST_TEST(canonical(R"(["\u0000\u0001\u000B\u000e\u001F\u001a"])") ==
             R"(["\u0000\u0001\u000b\u000e\u001f\u001a"])");
}

BOOST_AUTO_TEST_CASE(quote_and_backslash_are_escaped_and_nothing_else) {
  // "/" and DEL need no escape; an escaped "\/" in the input comes out bare.
  BOOST_TEST(canonical(R"(["a\"b\\c\/d\u007f"])") == "[\"a\\\"b\\\\c/d\x7f\"]");
}

BOOST_AUTO_TEST_CASE(non_ascii_is_passed_through_as_utf8) {
  // \u escapes, including a surrogate pair, become raw UTF-8.
  BOOST_TEST(canonical(R"(["\u00e9\u2603\ud83d\ude00", "é☃😀"])") == R"(["é☃😀","é☃😀"])");
}

BOOST_AUTO_TEST_CASE(keys_sort_by_code_point_not_by_utf16_unit) {
  // U+FF21 sorts before U+1F600 by code point, but after it by UTF-16 unit (0xD83D < 0xFF21).
  BOOST_TEST(canonical(R"({"😀": 2, "Ａ": 1, "a": 0, "B": 3})") == R"({"B":3,"a":0,"Ａ":1,"😀":2})");
}

BOOST_AUTO_TEST_CASE(keys_are_escaped_like_strings) {
  BOOST_TEST(canonical(R"({"a\nb": 1})") == R"({"a\nb":1})");
}

BOOST_AUTO_TEST_CASE(arrays_keep_their_order_and_literals_are_bare) {
  BOOST_TEST(canonical(R"([3, 1, true, false, null, "x", [], {}])") ==
             R"([3,1,true,false,null,"x",[],{}])");
}

BOOST_AUTO_TEST_CASE(scalars_at_the_top_level_are_encoded) {
  BOOST_TEST(canonical("42") == "42");
  BOOST_TEST(canonical(R"("x")") == R"("x")");
}

BOOST_AUTO_TEST_CASE(duplicate_keys_are_refused) {
  BOOST_TEST(refusal(R"({"a": 1, "a": 2})").find("duplicate") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(invalid_utf8_is_refused) {
  const char* bad[] = {
      "\xff",              // never valid
      "\xc0\xaf",          // overlong "/"
      "\xed\xa0\x80",      // a UTF-16 surrogate encoded in UTF-8
      "\xf4\x90\x80\x80",  // beyond U+10FFFF
      "\xe6\x97",          // truncated
  };
  for (const char* s : bad) {
    rapidjson::Value v(rapidjson::StringRef(s));
    std::string error;
    BOOST_TEST(!canonical_json(v, &error).has_value());
    BOOST_TEST(error.find("UTF-8") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(embedded_nul_is_escaped_not_truncated) {
  rapidjson::Value v(rapidjson::StringRef("a\0b", 3));
  BOOST_TEST(canonical(v) == R"("a\u0000b")");
}

BOOST_AUTO_TEST_CASE(nesting_up_to_the_limit_is_accepted_and_deeper_is_refused) {
  auto nested = [](int depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  const std::string deepest = nested(kMaxCanonicalJsonDepth);
  BOOST_TEST(canonical(deepest) == deepest);
  BOOST_TEST(refusal(nested(kMaxCanonicalJsonDepth + 1)).find("deep") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(excluding_drops_only_the_named_top_level_members) {
  const auto doc = parse_json(R"({"b": 1, "signatures": {}, "a": {"unsigned": 2}, "unsigned": 3})");
  std::string error;
  const auto out = canonical_json_excluding(doc, {"signatures", "unsigned"}, &error);
  BOOST_TEST(show(out, error) == R"({"a":{"unsigned":2},"b":1})");
}

BOOST_AUTO_TEST_CASE(excluding_refuses_a_non_object) {
  std::string error;
  BOOST_TEST(!canonical_json_excluding(parse_json("[1]"), {"x"}, &error).has_value());
  BOOST_TEST(!error.empty());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace haven::crypto
