// Tests of federation/server_keys.cpp: validating key objects and when a key may be used.
#include "federation/server_keys.h"

#include <boost/test/unit_test.hpp>

#include "crypto/base64.h"
#include "crypto/json_signing.h"
#include "homeserver/base/json.h"

using namespace haven::federation;
using haven::crypto::SigningKey;

namespace {

constexpr int64_t kNow = 1'700'000'000'000;
constexpr int64_t kDay = 24LL * 3600 * 1000;

const SigningKey& key_a() {
  static const SigningKey key = SigningKey::generate("a");
  return key;
}

haven::json::Document object_for(std::string_view server, int64_t valid_until_ts,
                                 std::vector<OldOwnKey> old = {}) {
  return own_server_keys(server, key_a(), old, valid_until_ts);
}

std::string error_of(const haven::json::Value& object, std::string_view server) {
  auto keys = parse_server_keys(object, server, kNow);
  BOOST_REQUIRE(!keys.ok());
  BOOST_CHECK_EQUAL(keys.error().status, 401);
  BOOST_CHECK_EQUAL(keys.error().errcode, "M_UNAUTHORIZED");
  return keys.error().message;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(server_keys)

BOOST_AUTO_TEST_CASE(own_key_object_round_trips_with_its_old_keys) {
  const SigningKey old = SigningKey::generate("old");
  auto object = object_for("hs.example", kNow + kDay, {{old.key_id(), old.public_key(), kNow - 5}});
  auto keys = parse_server_keys(object, "hs.example", kNow);
  BOOST_REQUIRE_MESSAGE(keys.ok(), (keys.ok() ? "" : keys.error().message));
  BOOST_CHECK_EQUAL(keys->server_name, "hs.example");
  BOOST_CHECK_EQUAL(keys->valid_until_ts, kNow + kDay);
  BOOST_REQUIRE_EQUAL(keys->keys.size(), 2u);
  BOOST_CHECK(keys->keys.at("ed25519:a") == (KnownKey{key_a().public_key(), kNow + kDay, 0}));
  BOOST_CHECK(keys->keys.at(old.key_id()) == (KnownKey{old.public_key(), 0, kNow - 5}));
}

BOOST_AUTO_TEST_CASE(validity_is_capped_at_seven_days_from_the_fetch) {
  auto keys = parse_server_keys(object_for("hs.example", kNow + 365 * kDay), "hs.example", kNow);
  BOOST_REQUIRE(keys.ok());
  BOOST_CHECK_EQUAL(keys->keys.at("ed25519:a").valid_until_ts, kNow + kMaxKeyValidityMs);
}

BOOST_AUTO_TEST_CASE(an_object_for_another_server_is_refused) {
  auto object = object_for("hs.example", kNow + kDay);
  BOOST_CHECK_EQUAL(error_of(object, "other.example"),
                    "Key response is for hs.example, not other.example");
}

BOOST_AUTO_TEST_CASE(a_wrong_or_missing_signature_is_refused) {
  auto tampered = object_for("hs.example", kNow + kDay);
  tampered["valid_until_ts"].SetInt64(kNow + 2 * kDay);
  BOOST_CHECK_EQUAL(error_of(tampered, "hs.example"),
                    "Key response is not signed by its key ed25519:a");

  auto unsigned_object = object_for("hs.example", kNow + kDay);
  unsigned_object.RemoveMember("signatures");
  BOOST_CHECK_EQUAL(error_of(unsigned_object, "hs.example"),
                    "Key response is not signed by its key ed25519:a");

  // Signed by a key the object does not list: the listed key's signature is what counts.
  auto other = object_for("hs.example", kNow + kDay);
  other.RemoveMember("signatures");
  const SigningKey intruder = SigningKey::generate("a");
  BOOST_REQUIRE(haven::crypto::sign_json(other, other.GetAllocator(), "hs.example", intruder));
  BOOST_CHECK_EQUAL(error_of(other, "hs.example"),
                    "Key response is not signed by its key ed25519:a");
}

BOOST_AUTO_TEST_CASE(malformed_objects_are_refused) {
  auto no_valid_until = object_for("hs.example", kNow + kDay);
  no_valid_until.RemoveMember("valid_until_ts");
  BOOST_CHECK_EQUAL(error_of(no_valid_until, "hs.example"),
                    "Key response has no integer valid_until_ts");

  auto short_key = haven::json::parse_trusted(
      R"({"server_name":"hs.example","valid_until_ts":1,"verify_keys":{"ed25519:a":{"key":"AAAA"}}})");
  BOOST_CHECK_EQUAL(error_of(short_key, "hs.example"),
                    "Key ed25519:a is not a 32-byte ed25519 key");

  auto no_keys = haven::json::parse_trusted(
      R"({"server_name":"hs.example","valid_until_ts":1,"verify_keys":{}})");
  BOOST_CHECK_EQUAL(error_of(no_keys, "hs.example"), "Key response has no verify_keys");

  auto not_object = haven::json::parse_trusted("[1]");
  BOOST_CHECK_EQUAL(error_of(not_object, "hs.example"), "Key response is not a JSON object");
}

BOOST_AUTO_TEST_CASE(an_expired_key_cannot_sign_requests) {
  KnownKey current{key_a().public_key(), kNow, 0};
  BOOST_CHECK(check_key_usable(current, kNow, KeyUse::kRequest).ok());
  auto late = check_key_usable(current, kNow + 1, KeyUse::kRequest);
  BOOST_REQUIRE(!late.ok());
  BOOST_CHECK_EQUAL(late.error().errcode, "M_UNAUTHORIZED");
  BOOST_CHECK(!check_key_usable(current, kNow + 1, KeyUse::kEvent).ok());
}

BOOST_AUTO_TEST_CASE(old_keys_verify_only_events_from_before_they_expired) {
  KnownKey old{key_a().public_key(), 0, kNow};
  BOOST_CHECK(check_key_usable(old, kNow - 1, KeyUse::kEvent).ok());
  BOOST_CHECK(!check_key_usable(old, kNow, KeyUse::kEvent).ok());
  BOOST_CHECK(!check_key_usable(old, kNow - 1, KeyUse::kRequest).ok());
}

BOOST_AUTO_TEST_CASE(key_ids_follow_the_spec_grammar) {
  BOOST_CHECK(is_ed25519_key_id("ed25519:a_B9"));
  BOOST_CHECK(!is_ed25519_key_id("ed25519:"));
  BOOST_CHECK(!is_ed25519_key_id("ed25519:a-b"));
  BOOST_CHECK(!is_ed25519_key_id("curve25519:a"));
}

BOOST_AUTO_TEST_SUITE_END()
