// Unit tests of homeserver/e2ee/remote_device_cache: a /user/devices answer cached, updates that
// follow the cached stream_id applied, a missed update making the entry stale.
#include "homeserver/e2ee/remote_device_cache.h"

#include <boost/test/unit_test.hpp>

#include "tests/unit/support/test_store.h"

namespace haven::e2ee {
namespace {

using test::TestStore;

const std::string kBob = "@bob:remote.test";

json::Document parse(const std::string& text) {
  auto d = json::parse_trusted(text);
  BOOST_REQUIRE(d.IsObject());
  return d;
}

void cache(TestStore& db) {
  auto answer = parse(R"({"user_id":"@bob:remote.test","stream_id":5,"devices":[
      {"device_id":"D1","keys":{"device_id":"D1","keys":{"ed25519:D1":"k1"}}},
      {"device_id":"D2","device_display_name":"phone"}],
      "master_key":{"keys":{"ed25519:M":"M"}}})");
  db.write([&](storage::WriteTxn& txn) { return cache_device_list(txn, kBob, answer); });
}

UpdateOutcome update(TestStore& db, const std::string& content) {
  auto c = parse(content);
  UpdateOutcome outcome = UpdateOutcome::kApplied;
  db.write([&](storage::WriteTxn& txn) {
    storage::Status s;
    outcome = apply_device_list_update(txn, kBob, c, &s);
    return s;
  });
  return outcome;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(remote_device_cache)

BOOST_AUTO_TEST_CASE(a_cached_answer_is_read_back) {
  TestStore db;
  cache(db);
  auto txn = db.read();
  auto cached = cached_device_list(*txn, kBob);
  BOOST_REQUIRE(cached);
  BOOST_TEST(json::get_int(*cached, "stream_id") == 5);
  BOOST_TEST(json::get_string((*cached)["devices"]["D1"], "device_id") == "D1");
  BOOST_TEST((*cached)["devices"]["D2"].ObjectEmpty());
  BOOST_TEST((*cached)["master_key"].IsObject());
  BOOST_TEST(!cached_device_list(*txn, "@carol:remote.test"));
}

BOOST_AUTO_TEST_CASE(an_update_following_the_stream_id_is_applied) {
  TestStore db;
  cache(db);
  BOOST_TEST((update(db, R"({"user_id":"@bob:remote.test","device_id":"D3","stream_id":6,
      "prev_id":[5],"keys":{"device_id":"D3"}})") == UpdateOutcome::kApplied));
  BOOST_TEST((update(db, R"({"user_id":"@bob:remote.test","device_id":"D1","stream_id":7,
      "prev_id":[6],"deleted":true})") == UpdateOutcome::kApplied));
  auto txn = db.read();
  auto cached = cached_device_list(*txn, kBob);
  BOOST_REQUIRE(cached);
  BOOST_TEST(json::get_int(*cached, "stream_id") == 7);
  BOOST_TEST(!(*cached)["devices"].HasMember("D1"));
  BOOST_TEST(json::get_string((*cached)["devices"]["D3"], "device_id") == "D3");
}

BOOST_AUTO_TEST_CASE(a_missed_update_makes_the_entry_stale_until_a_resync) {
  TestStore db;
  cache(db);
  BOOST_TEST((update(db, R"({"user_id":"@bob:remote.test","device_id":"D3","stream_id":9,
      "prev_id":[8]})") == UpdateOutcome::kNeedsResync));
  {
    auto txn = db.read();
    BOOST_TEST(!cached_device_list(*txn, kBob));
  }
  // Even an update that would follow is not applied to a stale entry.
  BOOST_TEST((update(db, R"({"user_id":"@bob:remote.test","device_id":"D3","stream_id":6,
      "prev_id":[5]})") == UpdateOutcome::kNeedsResync));
  cache(db);  // the resync
  auto txn = db.read();
  BOOST_TEST(cached_device_list(*txn, kBob).has_value());
}

BOOST_AUTO_TEST_CASE(an_update_for_an_uncached_user_needs_a_resync) {
  TestStore db;
  BOOST_TEST((update(db, R"({"user_id":"@bob:remote.test","device_id":"D1","stream_id":1,
      "prev_id":[]})") == UpdateOutcome::kNeedsResync));
  auto txn = db.read();
  BOOST_TEST(!cached_device_list(*txn, kBob));
}

BOOST_AUTO_TEST_CASE(a_signing_key_update_replaces_the_cached_keys) {
  TestStore db;
  cache(db);
  auto c = parse(R"({"user_id":"@bob:remote.test","master_key":{"keys":{"ed25519:N":"N"}},
      "self_signing_key":{"keys":{"ed25519:S":"S"}}})");
  db.write([&](storage::WriteTxn& txn) { return apply_signing_key_update(txn, kBob, c); });
  auto txn = db.read();
  auto cached = cached_device_list(*txn, kBob);
  BOOST_REQUIRE(cached);
  BOOST_TEST((*cached)["master_key"]["keys"].HasMember("ed25519:N"));
  BOOST_TEST((*cached)["self_signing_key"]["keys"].HasMember("ed25519:S"));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::e2ee
