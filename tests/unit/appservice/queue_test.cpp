// The outbox: order, per-service separation, the in-flight transaction and cursors.
#include "appservices/queue.h"

#include <boost/test/unit_test.hpp>

#include "tests/unit/support/test_store.h"

namespace haven::appservice {

BOOST_AUTO_TEST_CASE(items_come_out_in_order_per_service_until_removed) {
  test::TestStore db;
  db.write([](storage::WriteTxn& txn) {
    for (int i = 0; i < 5; ++i) {
      if (auto s = enqueue(txn, "a", ItemKind::kEvent, "{\"n\":" + std::to_string(i) + "}"); !s.ok())
        return s;
      if (auto s = enqueue(txn, "ab", ItemKind::kToDevice, "{}"); !s.ok()) return s;
    }
    return storage::Status::ok_status();
  });
  auto items = peek(*db.read(), "a", 3);
  BOOST_REQUIRE_EQUAL(items.size(), 3u);
  BOOST_CHECK_EQUAL(items[0].json, "{\"n\":0}");
  BOOST_CHECK_EQUAL(items[2].json, "{\"n\":2}");
  BOOST_CHECK(items[0].kind == ItemKind::kEvent);
  BOOST_CHECK(items[0].seq < items[1].seq);
  // "a" is a prefix of "ab" as a string but not as a key.
  BOOST_CHECK_EQUAL(queued_count(*db.read(), "a", 100), 5u);
  BOOST_CHECK_EQUAL(peek(*db.read(), "ab", 100).front().json, "{}");

  uint64_t through = items[1].seq;
  BOOST_CHECK_EQUAL(peek(*db.read(), "a", 100, through).size(), 2u);
  db.write([&](storage::WriteTxn& txn) { return remove_through(txn, "a", through); });
  auto rest = peek(*db.read(), "a", 100);
  BOOST_REQUIRE_EQUAL(rest.size(), 3u);
  BOOST_CHECK_EQUAL(rest[0].json, "{\"n\":2}");
  BOOST_CHECK_EQUAL(queued_count(*db.read(), "ab", 100), 5u);
}

BOOST_AUTO_TEST_CASE(in_flight_transactions_get_increasing_ids_and_cursors_persist) {
  test::TestStore db;
  BOOST_CHECK(!in_flight(*db.read(), "a"));
  InFlight first, second;
  db.write([&](storage::WriteTxn& txn) {
    storage::Status s;
    first = begin_in_flight(txn, "a", 7, &s);
    return s;
  });
  auto stored = in_flight(*db.read(), "a");
  BOOST_REQUIRE(stored);
  BOOST_CHECK_EQUAL(stored->txn_id, first.txn_id);
  BOOST_CHECK_EQUAL(stored->last_seq, 7u);
  db.write([&](storage::WriteTxn& txn) { return end_in_flight(txn, "a"); });
  BOOST_CHECK(!in_flight(*db.read(), "a"));
  db.write([&](storage::WriteTxn& txn) {
    storage::Status s;
    second = begin_in_flight(txn, "a", 9, &s);
    return s;
  });
  BOOST_CHECK(second.txn_id > first.txn_id);

  BOOST_CHECK(!cursor(*db.read(), "a", "events"));
  db.write([](storage::WriteTxn& txn) { return set_cursor(txn, "a", "events", 42); });
  BOOST_CHECK_EQUAL(cursor(*db.read(), "a", "events").value_or(0), 42u);
}

// A room's event waits in the outbox sealed with the room's at-rest key: once the room is
// purged (its key destroyed) the item comes out empty, and the sender leaves it out.
BOOST_AUTO_TEST_CASE(room_events_are_sealed_and_unreadable_once_the_room_is_purged) {
  test::TestStore db;
  db.write([](storage::WriteTxn& txn) {
    if (auto s = enqueue(txn, "a", ItemKind::kEvent, R"({"body":"queued text"})", "!r:x"); !s.ok())
      return s;
    return enqueue(txn, "a", ItemKind::kEvent, R"({"body":"other room"})", "!o:x");
  });
  {
    auto txn = db.read();
    txn->scan(storage::Table::kAppserviceQueue, {}, {}, storage::Direction::kForward,
              [](std::string_view, std::string_view value) {
                BOOST_CHECK(value.find("queued text") == std::string_view::npos);
                return true;
              });
  }
  auto items = peek(*db.read(), "a", 10);
  BOOST_REQUIRE_EQUAL(items.size(), 2u);
  BOOST_CHECK_EQUAL(items[0].json, R"({"body":"queued text"})");
  db.write([](storage::WriteTxn& txn) { return txn.destroy_at_rest_key("!r:x"); });
  items = peek(*db.read(), "a", 10);
  BOOST_REQUIRE_EQUAL(items.size(), 2u);
  BOOST_CHECK_EQUAL(items[0].json, "");
  BOOST_CHECK_EQUAL(items[1].json, R"({"body":"other room"})");
}

}  // namespace haven::appservice
