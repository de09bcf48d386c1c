// Unit tests of homeserver/e2ee/cross_signing: key shape checks, stored signatures and which
// of them a viewer sees merged into a key.
#include "homeserver/e2ee/cross_signing.h"

#include <boost/test/unit_test.hpp>

#include "crypto/base64.h"
#include "tests/unit/support/test_store.h"

namespace haven::e2ee {
namespace {

using test::TestStore;

const std::string kUser = "@alice:example.org";

std::string b64_key() { return crypto::base64_encode(std::string(32, 'k')); }

json::Document key_json(const std::string& usage, const std::string& user = kUser) {
  std::string pub = b64_key();
  auto d = json::parse_trusted("{\"user_id\":\"" + user + "\",\"usage\":[\"" + usage +
                               "\"],\"keys\":{\"ed25519:" + pub + "\":\"" + pub + "\"}}");
  return d;
}

BOOST_AUTO_TEST_CASE(well_formed_key_passes_and_names_its_public_key) {
  auto k = key_json("master");
  BOOST_TEST(check_cross_signing_key(k, kUser, "master").ok());
  auto pub = cross_signing_public_key(k);
  BOOST_REQUIRE(pub);
  BOOST_TEST(pub->base64 == b64_key());
  BOOST_TEST(pub->raw == std::string(32, 'k'));
}

BOOST_AUTO_TEST_CASE(wrong_user_usage_or_keys_are_refused) {
  BOOST_TEST(!check_cross_signing_key(key_json("master", "@bob:x"), kUser, "master").ok());
  BOOST_TEST(!check_cross_signing_key(key_json("self_signing"), kUser, "master").ok());
  auto two = json::parse_trusted(R"({"user_id":"@alice:example.org","usage":["master"],
      "keys":{"ed25519:a":"a","ed25519:b":"b"}})");
  BOOST_TEST(!check_cross_signing_key(two, kUser, "master").ok());
  auto mismatched = json::parse_trusted(
      "{\"user_id\":\"@alice:example.org\",\"usage\":"
      "[\"master\"],\"keys\":{\"ed25519:x\":\"" +
      b64_key() + "\"}}");
  BOOST_TEST(!check_cross_signing_key(mismatched, kUser, "master").ok());
  auto not_a_key = json::parse_trusted(R"({"user_id":"@alice:example.org","usage":["master"],
      "keys":{"ed25519:abc":"abc"}})");
  BOOST_TEST(!check_cross_signing_key(not_a_key, kUser, "master").ok());
}

BOOST_AUTO_TEST_CASE(merged_signatures_show_own_and_viewers_only) {
  TestStore db;
  db.write([&](storage::WriteTxn& txn) {
    if (auto s = put_signature(txn, kUser, "DEV1", {kUser, "ed25519:ssk", "sig-self"}); !s.ok()) {
      return s;
    }
    if (auto s = put_signature(txn, kUser, "DEV1", {"@bob:x", "ed25519:usk", "sig-bob"}); !s.ok()) {
      return s;
    }
    return put_signature(txn, kUser, "DEV1", {"@carol:x", "ed25519:usk", "sig-carol"});
  });
  auto txn = db.read();
  auto d = json::parse_trusted(R"({"signatures":{"@alice:example.org":{"ed25519:DEV1":"s"}}})");
  merge_signatures(*txn, d, d.GetAllocator(), kUser, "DEV1", "@bob:x");
  BOOST_TEST(json::to_string(d) ==
             R"({"signatures":{"@alice:example.org":{"ed25519:DEV1":"s","ed25519:ssk":"sig-self"},)"
             R"("@bob:x":{"ed25519:usk":"sig-bob"}}})");
  txn.reset();
  db.write([&](storage::WriteTxn& txn) { return delete_signatures_of(txn, kUser, "DEV1"); });
  auto txn2 = db.read();
  BOOST_TEST(signatures_of(*txn2, kUser, "DEV1").empty());
}

}  // namespace
}  // namespace haven::e2ee
