// Tests of federation/key_store.cpp: stored remote keys and this server's key history.
#include "federation/key_store.h"

#include <boost/test/unit_test.hpp>

#include "tests/unit/support/test_store.h"

using namespace haven::federation;
using haven::crypto::SigningKey;

BOOST_AUTO_TEST_SUITE(key_store)

BOOST_AUTO_TEST_CASE(a_rotated_own_key_is_kept_as_an_old_key) {
  haven::test::TestStore store;
  const SigningKey first = SigningKey::generate("first");
  const SigningKey second = SigningKey::generate("second");
  store.write([&](auto& txn) { return record_own_key(txn, first, 100); });
  BOOST_CHECK(own_old_keys(*store.read()).empty());
  store.write([&](auto& txn) { return record_own_key(txn, first, 200); });  // a restart
  BOOST_CHECK(own_old_keys(*store.read()).empty());

  store.write([&](auto& txn) { return record_own_key(txn, second, 300); });
  auto old = own_old_keys(*store.read());
  BOOST_REQUIRE_EQUAL(old.size(), 1u);
  BOOST_CHECK_EQUAL(old[0].key_id, "ed25519:first");
  BOOST_CHECK(old[0].public_key == first.public_key());
  BOOST_CHECK_EQUAL(old[0].expired_ts, 300);

  store.write([&](auto& txn) { return record_own_key(txn, second, 400); });
  old = own_old_keys(*store.read());
  BOOST_REQUIRE_EQUAL(old.size(), 1u);
  BOOST_CHECK_EQUAL(old[0].expired_ts, 300);  // not moved by later restarts
}

BOOST_AUTO_TEST_CASE(remote_keys_and_their_object_are_stored) {
  haven::test::TestStore store;
  const SigningKey key = SigningKey::generate("k");
  ServerKeys keys;
  keys.server_name = "remote.example";
  keys.valid_until_ts = 5000;
  keys.keys["ed25519:k"] = KnownKey{key.public_key(), 4000, 0};
  keys.keys["ed25519:old"] = KnownKey{key.public_key(), 0, 1000};
  keys.json = R"({"server_name":"remote.example"})";
  store.write([&](auto& txn) { return put_server_keys(txn, keys, 1234); });

  auto txn = store.read();
  auto current = get_server_key(*txn, "remote.example", "ed25519:k");
  BOOST_REQUIRE(current);
  BOOST_CHECK(*current == keys.keys["ed25519:k"]);
  auto old = get_server_key(*txn, "remote.example", "ed25519:old");
  BOOST_REQUIRE(old);
  BOOST_CHECK_EQUAL(old->expired_ts, 1000);
  BOOST_CHECK(!get_server_key(*txn, "remote.example", "ed25519:other"));
  BOOST_CHECK(!get_server_key(*txn, "remote.exampl", "ed25519:k"));
  auto object = get_key_object(*txn, "remote.example");
  BOOST_REQUIRE(object);
  BOOST_CHECK_EQUAL(object->fetched_ts, 1234);
  BOOST_CHECK_EQUAL(object->valid_until_ts, 5000);
  BOOST_CHECK_EQUAL(object->json, keys.json);
}

BOOST_AUTO_TEST_SUITE_END()
