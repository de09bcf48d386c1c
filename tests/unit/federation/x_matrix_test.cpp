// Tests of federation/x_matrix.cpp: the Authorization header grammar and request signing.
#include "federation/x_matrix.h"

#include <boost/test/unit_test.hpp>

#include "crypto/base64.h"
#include "crypto/json_signing.h"
#include "homeserver/base/json.h"

using haven::federation::format_x_matrix;
using haven::federation::parse_x_matrix;
using haven::federation::request_signing_text;
using haven::federation::sign_request;
using haven::federation::verify_request;
using haven::federation::XMatrixAuth;

namespace {

// The appendix's test key: server "domain", key id "ed25519:1".
haven::crypto::SigningKey spec_key() {
  auto key = haven::crypto::SigningKey::from_file_line(
      "ed25519 1 YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1");
  BOOST_REQUIRE(key);
  return *key;
}

const XMatrixAuth kSpecExample{"origin.hs.example.com", "destination.hs.example.com",
                               "ed25519:key1", "ABCDEF..."};

}  // namespace

BOOST_AUTO_TEST_SUITE(x_matrix_header)

BOOST_AUTO_TEST_CASE(parses_the_spec_example) {
  auto auth = parse_x_matrix(
      "X-Matrix origin=\"origin.hs.example.com\",destination=\"destination.hs.example.com\","
      "key=\"ed25519:key1\",sig=\"ABCDEF...\"");
  BOOST_REQUIRE(auth);
  BOOST_CHECK(*auth == kSpecExample);
}

BOOST_AUTO_TEST_CASE(names_are_case_insensitive_and_order_does_not_matter) {
  auto auth = parse_x_matrix(
      "x-matrix SIG=\"ABCDEF...\",Key=\"ed25519:key1\",DESTINATION=\"destination.hs.example.com\","
      "Origin=\"origin.hs.example.com\"");
  BOOST_REQUIRE(auth);
  BOOST_CHECK(*auth == kSpecExample);
}

BOOST_AUTO_TEST_CASE(spaces_and_tabs_around_commas_and_unquoted_tokens_are_accepted) {
  auto auth = parse_x_matrix(
      "X-Matrix   origin=origin.hs.example.com ,\tdestination=destination.hs.example.com , "
      "key=ed25519:key1,sig=ABCDEF...");
  BOOST_REQUIRE(auth);
  BOOST_CHECK(*auth == kSpecExample);
}

BOOST_AUTO_TEST_CASE(quoted_values_are_unescaped) {
  auto auth = parse_x_matrix(R"(X-Matrix origin="a\"b\\c",key="ed25519:k",sig="s\x")");
  BOOST_REQUIRE(auth);
  BOOST_CHECK_EQUAL(auth->origin, "a\"b\\c");
  BOOST_CHECK_EQUAL(auth->sig, "sx");
}

BOOST_AUTO_TEST_CASE(destination_may_be_absent_and_unknown_parameters_are_ignored) {
  auto auth = parse_x_matrix("X-Matrix origin=a.org,key=\"ed25519:k\",sig=s,extra=\"x, y\"");
  BOOST_REQUIRE(auth);
  BOOST_CHECK_EQUAL(auth->origin, "a.org");
  BOOST_CHECK(auth->destination.empty());
}

BOOST_AUTO_TEST_CASE(malformed_headers_are_refused) {
  for (const char* bad : {
           "",
           "Bearer abc",
           "X-Matrix",
           "X-Matrixorigin=a,key=k,sig=s",
           "X-Matrix origin=a,key=\"ed25519:k\"",             // no sig
           "X-Matrix key=\"ed25519:k\",sig=s",                // no origin
           "X-Matrix origin=a,key=ed25519:k,sig=s,",          // trailing comma
           "X-Matrix origin=a,,key=ed25519:k,sig=s",          // empty parameter
           "X-Matrix origin=\"a,key=ed25519:k,sig=s",         // unterminated quote
           "X-Matrix origin=a key=ed25519:k sig=s",           // no commas
           "X-Matrix origin=a,origin=b,key=ed25519:k,sig=s",  // twice
           "X-Matrix origin=,key=ed25519:k,sig=s",            // empty value
           "X-Matrix origin=a b,key=ed25519:k,sig=s",
           "X-Matrix origin=\"a\x01\",key=ed25519:k,sig=s",
       }) {
    BOOST_TEST_CONTEXT(bad) { BOOST_CHECK(!parse_x_matrix(bad)); }
  }
}

BOOST_AUTO_TEST_CASE(formats_as_the_spec_asks_senders_to) {
  BOOST_CHECK_EQUAL(format_x_matrix(kSpecExample),
                    "X-Matrix origin=\"origin.hs.example.com\",destination="
                    "\"destination.hs.example.com\",key=\"ed25519:key1\",sig=\"ABCDEF...\"");
  XMatrixAuth odd{"a\"b", "", "ed25519:k", "s\\"};
  auto back = parse_x_matrix(format_x_matrix(odd));
  BOOST_REQUIRE(back);
  BOOST_CHECK(*back == odd);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(request_signing)

BOOST_AUTO_TEST_CASE(signs_the_canonical_request_object) {
  auto content = haven::json::parse_trusted(R"({"b": 1, "a": ["x"]})");
  auto text = request_signing_text("POST", "/_matrix/federation/v1/send/1?x=y", "origin.org",
                                   "dest.org", &content);
  BOOST_REQUIRE(text);
  BOOST_CHECK_EQUAL(*text,
                    R"({"content":{"a":["x"],"b":1},"destination":"dest.org","method":"POST",)"
                    R"("origin":"origin.org","uri":"/_matrix/federation/v1/send/1?x=y"})");
  auto get = request_signing_text("GET", "/_matrix/key/v2/server", "o", "d", nullptr);
  BOOST_REQUIRE(get);
  BOOST_CHECK_EQUAL(*get, R"({"destination":"d","method":"GET","origin":"o",)"
                          R"("uri":"/_matrix/key/v2/server"})");
}

// The spec has no worked signature for a request; the signature must equal what the JSON
// signing algorithm (tested against the appendix's vectors) gives for the same object.
BOOST_AUTO_TEST_CASE(signature_is_the_json_signature_of_the_request_object) {
  const auto key = spec_key();
  auto content = haven::json::parse_trusted(R"({"pdus": []})");
  auto header =
      sign_request(key, "domain", "dest.org", "PUT", "/_matrix/federation/v1/send/t1", &content);
  BOOST_REQUIRE(header);
  auto auth = parse_x_matrix(*header);
  BOOST_REQUIRE(auth);
  BOOST_CHECK_EQUAL(auth->origin, "domain");
  BOOST_CHECK_EQUAL(auth->destination, "dest.org");
  BOOST_CHECK_EQUAL(auth->key, "ed25519:1");

  auto object = haven::json::parse_trusted(
      R"({"method":"PUT","uri":"/_matrix/federation/v1/send/t1","origin":"domain",)"
      R"("destination":"dest.org","content":{"pdus":[]}})");
  BOOST_REQUIRE(haven::crypto::sign_json(object, object.GetAllocator(), "domain", key));
  BOOST_CHECK_EQUAL(auth->sig, object["signatures"]["domain"]["ed25519:1"].GetString());
}

BOOST_AUTO_TEST_CASE(verification_fails_when_anything_signed_changes) {
  const auto key = spec_key();
  auto content = haven::json::parse_trusted(R"({"a": 1})");
  auto header = sign_request(key, "domain", "dest.org", "POST", "/_matrix/x?q=1", &content);
  BOOST_REQUIRE(header);
  auto auth = *parse_x_matrix(*header);
  const std::string pk = key.public_key();
  BOOST_CHECK(verify_request(auth, pk, "dest.org", "POST", "/_matrix/x?q=1", &content));

  auto other = haven::json::parse_trusted(R"({"a": 2})");
  BOOST_CHECK(!verify_request(auth, pk, "dest.org", "POST", "/_matrix/x?q=1", &other));
  BOOST_CHECK(!verify_request(auth, pk, "dest.org", "POST", "/_matrix/x?q=1", nullptr));
  BOOST_CHECK(!verify_request(auth, pk, "dest.org", "PUT", "/_matrix/x?q=1", &content));
  BOOST_CHECK(!verify_request(auth, pk, "dest.org", "POST", "/_matrix/x?q=2", &content));
  BOOST_CHECK(!verify_request(auth, pk, "other.org", "POST", "/_matrix/x?q=1", &content));
  auto forged_origin = auth;
  forged_origin.origin = "evil.org";
  BOOST_CHECK(!verify_request(forged_origin, pk, "dest.org", "POST", "/_matrix/x?q=1", &content));
  auto other_key = haven::crypto::SigningKey::generate("x");
  BOOST_CHECK(!verify_request(auth, other_key.public_key(), "dest.org", "POST", "/_matrix/x?q=1",
                              &content));
  auto garbage = auth;
  garbage.sig = "not base64!";
  BOOST_CHECK(!verify_request(garbage, pk, "dest.org", "POST", "/_matrix/x?q=1", &content));
  auto not_ed25519 = auth;
  not_ed25519.key = "curve25519:1";
  BOOST_CHECK(!verify_request(not_ed25519, pk, "dest.org", "POST", "/_matrix/x?q=1", &content));
}

BOOST_AUTO_TEST_SUITE_END()
