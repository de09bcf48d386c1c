#include "crypto/olm_account.h"

#include <boost/test/unit_test.hpp>
#include <set>
#include <string>

#include "crypto/base64.h"
#include "crypto/ed25519.h"
#include "tests/unit/crypto/olm_test_util.h"

namespace haven::crypto::olm {
namespace {

using test::flip_byte_from_end;
using test::truncated;
using test::vector_receiver;
namespace v = vectors;

size_t unpublished_count(const Account& account) {
  return account.unpublished_one_time_keys().size();
}

BOOST_AUTO_TEST_SUITE(olm_account_suite)

BOOST_AUTO_TEST_CASE(private_keys_give_the_public_keys_libolm_was_given) {
  const Account account = vector_receiver();
  BOOST_TEST(account.curve25519_key() == v::kReceiverIdentityPublic);
  const auto one_time = account.unpublished_one_time_keys();
  BOOST_REQUIRE_EQUAL(one_time.size(), 3u);
  for (size_t i = 0; i < one_time.size(); ++i) {
    BOOST_TEST(one_time[i].public_key == v::kReceiverOneTimePublic[i]);
  }
  BOOST_TEST(one_time[0].key_id == "AAAAAQ");  // a 4-byte counter, as libolm's ids
  BOOST_REQUIRE(account.unpublished_fallback_key().has_value());
  BOOST_TEST(account.unpublished_fallback_key()->public_key == v::kReceiverFallbackPublic);
}

BOOST_AUTO_TEST_CASE(generated_keys_are_valid_and_signatures_verify) {
  Account account = Account::generate();
  account.generate_one_time_keys(3);
  const auto ed25519 = base64_decode(account.ed25519_key());
  const auto curve25519 = base64_decode(account.curve25519_key());
  BOOST_REQUIRE(ed25519.has_value());
  BOOST_REQUIRE(curve25519.has_value());
  BOOST_TEST(ed25519->size() == 32u);
  BOOST_TEST(curve25519->size() == 32u);
  const auto signature = base64_decode(account.sign("{\"device_id\":\"CARE\"}"));
  BOOST_REQUIRE(signature.has_value());
  BOOST_TEST(ed25519_verify(*ed25519, "{\"device_id\":\"CARE\"}", *signature));
  BOOST_TEST(!ed25519_verify(*ed25519, "{\"device_id\":\"CAR\"}", *signature));
  // deserialize() derives every public key again from its private key: equal keys after the
  // round trip show that the published keys are the X25519 / Ed25519 keys of the secrets.
  const auto copy = Account::deserialize(account.serialize());
  BOOST_REQUIRE(copy.has_value());
  BOOST_TEST(copy->curve25519_key() == account.curve25519_key());
  BOOST_TEST(copy->ed25519_key() == account.ed25519_key());
  BOOST_REQUIRE_EQUAL(copy->unpublished_one_time_keys().size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    BOOST_TEST(copy->unpublished_one_time_keys()[i].public_key ==
               account.unpublished_one_time_keys()[i].public_key);
  }
  BOOST_TEST(Account::generate().curve25519_key() != account.curve25519_key());
}

BOOST_AUTO_TEST_CASE(one_time_keys_are_published_once_and_bounded) {
  Account account = Account::generate();
  account.generate_one_time_keys(5);
  const auto keys = account.unpublished_one_time_keys();
  BOOST_REQUIRE_EQUAL(keys.size(), 5u);
  std::set<std::string> ids;
  std::set<std::string> publics;
  for (const OneTimeKey& key : keys) {
    ids.insert(key.key_id);
    publics.insert(key.public_key);
  }
  BOOST_TEST(ids.size() == 5u);
  BOOST_TEST(publics.size() == 5u);
  account.mark_keys_as_published();
  BOOST_TEST(unpublished_count(account) == 0u);
  account.generate_one_time_keys(2);
  BOOST_TEST(unpublished_count(account) == 2u);
  BOOST_TEST(ids.count(account.unpublished_one_time_keys()[0].key_id) == 0u);

  // 7 stored + 100 new: the oldest 7 (5 published, 2 unpublished) are dropped.
  BOOST_TEST(account.max_one_time_keys() == 100u);
  const std::string oldest_unpublished = account.unpublished_one_time_keys()[0].key_id;
  account.generate_one_time_keys(100);
  BOOST_TEST(unpublished_count(account) == 100u);
  for (const OneTimeKey& key : account.unpublished_one_time_keys()) {
    BOOST_TEST(key.key_id != oldest_unpublished);
  }
  account.generate_one_time_keys(1'000'000);  // clamped to the maximum, not a long loop
  BOOST_TEST(unpublished_count(account) == 100u);
}

BOOST_AUTO_TEST_CASE(fallback_key_is_published_and_replaced) {
  Account account = Account::generate();
  BOOST_TEST(!account.unpublished_fallback_key().has_value());
  account.generate_fallback_key();
  const auto first = account.unpublished_fallback_key();
  BOOST_REQUIRE(first.has_value());
  account.mark_keys_as_published();
  BOOST_TEST(!account.unpublished_fallback_key().has_value());
  account.generate_fallback_key();
  const auto second = account.unpublished_fallback_key();
  BOOST_REQUIRE(second.has_value());
  BOOST_TEST(second->public_key != first->public_key);
  BOOST_TEST(second->key_id != first->key_id);
}

BOOST_AUTO_TEST_CASE(inbound_session_from_a_one_time_key_uses_the_key_up) {
  Account account = vector_receiver();
  const Account before = account;
  const auto created =
      account.create_inbound_session(v::kSenderCurve25519, v::kOneTimeSession[0].body);
  BOOST_REQUIRE(created.has_value());
  BOOST_TEST(created->plaintext == v::kOneTimeSession[0].plaintext);
  BOOST_TEST(created->session.session_id() == v::kOneTimeSessionId);  // libolm's id
  const auto left = account.unpublished_one_time_keys();
  BOOST_REQUIRE_EQUAL(left.size(), 2u);
  BOOST_TEST(left[0].public_key == v::kReceiverOneTimePublic[1]);

  // The same pre-key message again: to this account, and to a stored copy of it, it names a key
  // that is gone; a copy from before the first use still has it.
  BOOST_TEST(!account.create_inbound_session(v::kSenderCurve25519, v::kOneTimeSession[0].body));
  auto copy = Account::deserialize(account.serialize());
  BOOST_REQUIRE(copy.has_value());
  BOOST_TEST(!copy->create_inbound_session(v::kSenderCurve25519, v::kOneTimeSession[1].body));
  Account untouched = before;
  BOOST_TEST(untouched.create_inbound_session(v::kSenderCurve25519, v::kOneTimeSession[1].body)
                 .has_value());
}

BOOST_AUTO_TEST_CASE(inbound_session_from_the_fallback_key_keeps_the_key) {
  Account account = vector_receiver();
  for (int round = 0; round < 2; ++round) {
    const auto created =
        account.create_inbound_session(v::kSenderCurve25519, v::kFallbackSession[0].body);
    BOOST_REQUIRE(created.has_value());
    BOOST_TEST(created->plaintext == v::kFallbackSession[0].plaintext);
    BOOST_TEST(created->session.session_id() == v::kFallbackSessionId);
  }
  BOOST_TEST(unpublished_count(account) == 3u);
}

BOOST_AUTO_TEST_CASE(previous_fallback_key_works_until_the_next_one) {
  Account account = vector_receiver();
  account.generate_fallback_key();  // the vectors' fallback key becomes the previous one
  BOOST_TEST(account.create_inbound_session(v::kSenderCurve25519, v::kFallbackSession[1].body)
                 .has_value());
  const auto copy = Account::deserialize(account.serialize());
  BOOST_REQUIRE(copy.has_value());
  Account restored = *copy;
  BOOST_TEST(restored.create_inbound_session(v::kSenderCurve25519, v::kFallbackSession[0].body)
                 .has_value());
  account.generate_fallback_key();
  BOOST_TEST(!account.create_inbound_session(v::kSenderCurve25519, v::kFallbackSession[0].body));
}

BOOST_AUTO_TEST_CASE(bad_pre_key_messages_are_refused_and_change_nothing) {
  Account account = vector_receiver();
  const std::string before = account.serialize();
  const std::string_view body = v::kOneTimeSession[0].body;
  const std::string bad[] = {
      flip_byte_from_end(body, 0),   // the MAC
      flip_byte_from_end(body, 12),  // the ciphertext
      truncated(body, 1),            // no whole MAC
      truncated(body, 40),           // cut into the ciphertext
      "not*base64",                  // not base64
      "",                            // empty
      std::string(body.substr(1)),   // base64 of other bytes
  };
  for (const std::string& message : bad) {
    BOOST_TEST(!account.create_inbound_session(v::kSenderCurve25519, message).has_value(), message);
  }
  // Another sender's identity key, and one that is not base64 / not a key.
  BOOST_TEST(!account.create_inbound_session(v::kReceiverIdentityPublic, body));
  BOOST_TEST(!account.create_inbound_session("***", body));
  BOOST_TEST(account.serialize() == before);
  BOOST_TEST(account.create_inbound_session(v::kSenderCurve25519, body).has_value());
}

BOOST_AUTO_TEST_CASE(a_one_time_key_the_account_does_not_have_is_refused) {
  Account::PrivateKeys keys;
  keys.curve25519 = crypto::test::from_hex(v::kReceiverIdentityPrivateHex);
  keys.ed25519_seed = crypto::test::from_hex(v::kReceiverEd25519SeedHex);
  keys.one_time.push_back(crypto::test::from_hex(v::kReceiverOneTimePrivateHex[1]));
  auto account = Account::from_private_keys(keys);
  BOOST_REQUIRE(account.has_value());
  BOOST_TEST(!account->create_inbound_session(v::kSenderCurve25519, v::kOneTimeSession[0].body));
  BOOST_TEST(!account->create_inbound_session(v::kSenderCurve25519, v::kFallbackSession[0].body));
  BOOST_TEST(account->create_inbound_session(v::kSenderCurve25519, v::kFarAheadSession[0].body)
                 .has_value());
}

BOOST_AUTO_TEST_CASE(from_private_keys_refuses_wrong_sizes) {
  Account::PrivateKeys keys;
  keys.curve25519 = std::string(32, 'a');
  keys.ed25519_seed = std::string(31, 'b');
  BOOST_TEST(!Account::from_private_keys(keys).has_value());
  keys.ed25519_seed = std::string(32, 'b');
  BOOST_TEST(Account::from_private_keys(keys).has_value());
  keys.one_time.push_back(std::string(33, 'c'));
  BOOST_TEST(!Account::from_private_keys(keys).has_value());
}

BOOST_AUTO_TEST_CASE(deserialize_refuses_damaged_bytes) {
  Account account = vector_receiver();
  account.generate_fallback_key();
  test::check_refuses_damaged<Account>(account.serialize());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace haven::crypto::olm
