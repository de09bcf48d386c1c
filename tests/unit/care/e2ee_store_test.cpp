// Unit tests of appservices/care/e2ee_store: the account with its device id, Olm sessions by
// sender key, Megolm sessions by room, waiting events bounded per room, and a room forgotten
// without touching another room's keys.
#include "appservices/care/e2ee_store.h"

#include <boost/test/unit_test.hpp>

#include "tests/unit/support/test_store.h"

using namespace haven::care;

BOOST_AUTO_TEST_SUITE(e2ee_store)

BOOST_AUTO_TEST_CASE(account_and_olm_sessions_are_stored_together) {
  haven::test::TestStore db;
  E2eeStore store(db.store());
  BOOST_TEST(!store.account().has_value());
  StoredAccount account{"CAREDEV", std::string("secret\0bytes", 12), std::string(32, 'm'),
                        std::string(32, 's')};
  BOOST_REQUIRE(store.put_olm_session({"senderA", "s1", "session-1"}, &account).ok());
  BOOST_REQUIRE(store.put_olm_session({"senderA", "s2", "session-2"}, nullptr).ok());
  BOOST_REQUIRE(store.put_olm_session({"senderB", "s3", "session-3"}, nullptr).ok());
  auto back = store.account();
  BOOST_REQUIRE(back);
  BOOST_TEST(back->device_id == "CAREDEV");
  BOOST_TEST(back->account == account.account, "binary account bytes survive");
  BOOST_TEST(back->master_seed == account.master_seed);
  BOOST_TEST(back->self_signing_seed == account.self_signing_seed);
  auto a = store.olm_sessions("senderA");
  BOOST_REQUIRE_EQUAL(a.size(), 2u);
  BOOST_TEST(a[0].session_id == "s1");
  BOOST_TEST(a[1].session == "session-2");
  BOOST_TEST(store.olm_sessions("sender").empty(), "a sender key is not a prefix match");
}

BOOST_AUTO_TEST_CASE(group_sessions_and_parked_events_are_per_room) {
  haven::test::TestStore db;
  E2eeStore store(db.store());
  BOOST_REQUIRE(store.put_group_session({"!a:hs", "g1", "@u:hs", "ck", "ratchet-a"}).ok());
  BOOST_REQUIRE(store.put_group_session({"!b:hs", "g1", "@v:hs", "ck2", "ratchet-b"}).ok());
  auto g = store.group_session("!a:hs", "g1");
  BOOST_REQUIRE(g);
  BOOST_TEST(g->sender == "@u:hs");
  BOOST_TEST(g->session == "ratchet-a");
  BOOST_TEST(!store.group_session("!a:hs", "g2").has_value());
  BOOST_REQUIRE(store.park("!a:hs", R"({"n":1})").ok());
  BOOST_REQUIRE(store.park("!a:hs", R"({"n":2})").ok());
  BOOST_REQUIRE(store.park("!b:hs", R"({"n":3})").ok());
  auto parked = store.parked("!a:hs");
  BOOST_REQUIRE_EQUAL(parked.size(), 2u);
  BOOST_TEST(parked[0].event_json == R"({"n":1})");
  BOOST_REQUIRE(store.unpark("!a:hs", {parked[0].seq}).ok());
  BOOST_TEST(store.parked("!a:hs").size() == 1u);
  {
    auto txn = db.store().begin_read();
    bool plain = false;
    txn->scan(haven::storage::Table::kCareE2ee, "", "", haven::storage::Direction::kForward,
              [&](std::string_view, std::string_view value) {
                plain = plain || value.find("ratchet-a") != std::string_view::npos ||
                        value.find("\"n\":1") != std::string_view::npos;
                return true;
              });
    BOOST_TEST(!plain, "room keys and waiting events are sealed");
    BOOST_TEST(txn->at_rest_key("!a:hs") != nullptr);
  }
  BOOST_REQUIRE(store.forget_room("!a:hs").ok());
  BOOST_TEST(db.store().begin_read()->at_rest_key("!a:hs") == nullptr, "the room's key is gone");
  BOOST_TEST(!store.group_session("!a:hs", "g1").has_value());
  BOOST_TEST(store.parked("!a:hs").empty());
  BOOST_TEST(store.group_session("!b:hs", "g1").has_value(), "another room keeps its key");
  BOOST_TEST(store.parked("!b:hs").size() == 1u);
}

BOOST_AUTO_TEST_CASE(at_most_so_many_events_wait_per_room_the_oldest_go) {
  haven::test::TestStore db;
  E2eeStore store(db.store());
  for (size_t i = 0; i < E2eeStore::kMaxParkedPerRoom + 5; ++i) {
    BOOST_REQUIRE(store.park("!a:hs", std::to_string(i)).ok());
  }
  auto parked = store.parked("!a:hs");
  BOOST_REQUIRE_EQUAL(parked.size(), E2eeStore::kMaxParkedPerRoom);
  BOOST_TEST(parked.front().event_json == "5");
  BOOST_TEST(parked.back().event_json == std::to_string(E2eeStore::kMaxParkedPerRoom + 4));
}

BOOST_AUTO_TEST_SUITE_END()
