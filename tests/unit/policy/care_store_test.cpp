// Unit tests of homeserver/policy/care_store: roles with their index, symmetric links, owners
// and the feature switches over the config's defaults.
#include "homeserver/policy/care_store.h"

#include <boost/test/unit_test.hpp>

#include "tests/unit/support/test_store.h"

namespace haven::policy {
namespace {

using test::TestStore;

BOOST_AUTO_TEST_CASE(role_names_round_trip_and_unknown_names_are_refused) {
  BOOST_TEST((parse_role("client") == Role::kClient));
  BOOST_TEST((parse_role("professional") == Role::kProfessional));
  BOOST_TEST(!parse_role("Professional"));
  BOOST_TEST(!parse_role(""));
  BOOST_TEST(role_name(Role::kProfessional) == "professional");
}

BOOST_AUTO_TEST_CASE(changing_a_role_moves_the_user_between_role_lists) {
  TestStore db;
  db.write([](storage::WriteTxn& txn) { return set_role(txn, "@a:x", Role::kProfessional); });
  db.write([](storage::WriteTxn& txn) { return set_role(txn, "@b:x", Role::kProfessional); });
  db.write([](storage::WriteTxn& txn) { return set_role(txn, "@a:x", Role::kClient); });
  auto txn = db.read();
  BOOST_TEST((stored_role(*txn, "@a:x") == Role::kClient));
  BOOST_TEST(!stored_role(*txn, "@c:x"));
  BOOST_TEST(users_with_role(*txn, Role::kProfessional) == std::vector<std::string>{"@b:x"});
  BOOST_TEST(users_with_role(*txn, Role::kClient) == std::vector<std::string>{"@a:x"});
}

BOOST_AUTO_TEST_CASE(links_are_symmetric_and_unlinking_removes_both_directions) {
  TestStore db;
  db.write([](storage::WriteTxn& txn) { return link(txn, "@a:x", "@b:y"); });
  {
    auto txn = db.read();
    BOOST_TEST(is_linked(*txn, "@a:x", "@b:y"));
    BOOST_TEST(is_linked(*txn, "@b:y", "@a:x"));
    BOOST_TEST(links_of(*txn, "@b:y") == std::vector<std::string>{"@a:x"});
    // A prefix of another id is not a link.
    BOOST_TEST(!is_linked(*txn, "@a:x", "@b:"));
  }
  db.write([](storage::WriteTxn& txn) { return unlink(txn, "@b:y", "@a:x"); });
  auto txn = db.read();
  BOOST_TEST(!is_linked(*txn, "@a:x", "@b:y"));
  BOOST_TEST(links_of(*txn, "@a:x").empty());
}

BOOST_AUTO_TEST_CASE(features_default_to_the_config_until_set) {
  TestStore db;
  conf::Care config;
  config.guest_links = true;
  {
    auto txn = db.read();
    BOOST_TEST(features(*txn, config).guest_links);
    BOOST_TEST(!features(*txn, config).temporary_rooms);
  }
  db.write([](storage::WriteTxn& txn) { return set_features(txn, Features{false, true}); });
  auto txn = db.read();
  BOOST_TEST(!features(*txn, config).guest_links);
  BOOST_TEST(features(*txn, config).temporary_rooms);
}

BOOST_AUTO_TEST_CASE(room_owner_is_recorded_per_room) {
  TestStore db;
  db.write([](storage::WriteTxn& txn) { return set_room_owner(txn, "!r:x", "@a:x"); });
  auto txn = db.read();
  BOOST_TEST(room_owner(*txn, "!r:x").value_or("") == "@a:x");
  BOOST_TEST(!room_owner(*txn, "!other:x"));
}

}  // namespace
}  // namespace haven::policy
