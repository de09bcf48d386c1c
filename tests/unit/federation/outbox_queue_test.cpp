// The outbound federation queue (federation/outbox_queue.cpp): per-destination order, the
// spec's transaction limits, the transaction in flight and persistence across a reopen.
#include "federation/outbox_queue.h"

#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "storage/store.h"
#include "tests/unit/support/test_store.h"

namespace haven::federation {
namespace {

std::string edu(int n) { return R"({"edu_type":"m.test","content":{"n":)" + std::to_string(n) + "}}"; }

void queue_edus(test::TestStore& db, const std::string& destination, int from, int count) {
  db.write([&](storage::WriteTxn& txn) {
    for (int i = from; i < from + count; ++i) {
      if (auto s = queue_edu(txn, destination, edu(i)); !s.ok()) return s;
    }
    return storage::Status::ok_status();
  });
}

void queue_pdus(test::TestStore& db, const std::string& destination, int from, int count) {
  db.write([&](storage::WriteTxn& txn) {
    for (int i = from; i < from + count; ++i) {
      auto s = queue_pdu(txn, destination, "!room:a.test", "$event" + std::to_string(i));
      if (!s.ok()) return s;
    }
    return storage::Status::ok_status();
  });
}

OutTransaction begin(test::TestStore& db, const std::string& destination) {
  std::optional<OutTransaction> t;
  db.write([&](storage::WriteTxn& txn) {
    storage::Status s;
    t = begin_transaction(txn, destination, &s);
    return s;
  });
  BOOST_REQUIRE(t);
  return *t;
}

void complete(test::TestStore& db, const std::string& destination) {
  db.write([&](storage::WriteTxn& txn) { return complete_transaction(txn, destination); });
}

}  // namespace

BOOST_AUTO_TEST_SUITE(outbox_queue)

BOOST_AUTO_TEST_CASE(items_of_a_destination_keep_their_order_and_destinations_are_apart) {
  test::TestStore db;
  queue_edus(db, "b.test", 0, 3);
  queue_edus(db, "c.test", 10, 1);
  queue_edus(db, "b.test", 3, 2);
  auto txn = db.read();
  auto b = peek_edus(*txn, "b.test", 100);
  BOOST_REQUIRE_EQUAL(b.size(), 5u);
  for (int i = 0; i < 5; ++i) BOOST_TEST(b[i].json == edu(i));
  auto c = peek_edus(*txn, "c.test", 100);
  BOOST_REQUIRE_EQUAL(c.size(), 1u);
  BOOST_TEST(c[0].json == edu(10));
  BOOST_TEST((queued_destinations(*txn) == std::vector<std::string>{"b.test", "c.test"}));
}

BOOST_AUTO_TEST_CASE(a_transaction_holds_at_most_50_pdus_and_100_edus) {
  test::TestStore db;
  queue_pdus(db, "b.test", 0, 60);
  queue_edus(db, "b.test", 0, 130);
  OutTransaction first = begin(db, "b.test");
  {
    auto txn = db.read();
    auto pdus = peek_pdus(*txn, "b.test", kMaxPdusPerTransaction, first.pdus_through);
    auto edus = peek_edus(*txn, "b.test", kMaxEdusPerTransaction, first.edus_through);
    BOOST_TEST(pdus.size() == 50u);
    BOOST_TEST(edus.size() == 100u);
    BOOST_TEST(pdus.front().event_id == "$event0");
    BOOST_TEST(pdus.back().event_id == "$event49");
    BOOST_TEST(pdus.front().room_id == "!room:a.test");
  }
  complete(db, "b.test");
  OutTransaction second = begin(db, "b.test");
  BOOST_TEST(second.txn_id != first.txn_id);
  auto txn = db.read();
  auto pdus = peek_pdus(*txn, "b.test", kMaxPdusPerTransaction, second.pdus_through);
  auto edus = peek_edus(*txn, "b.test", kMaxEdusPerTransaction, second.edus_through);
  BOOST_REQUIRE_EQUAL(pdus.size(), 10u);
  BOOST_TEST(pdus.front().event_id == "$event50");
  BOOST_REQUIRE_EQUAL(edus.size(), 30u);
  BOOST_TEST(edus.front().json == edu(100));
}

BOOST_AUTO_TEST_CASE(items_queued_during_a_transaction_wait_for_the_next_one) {
  test::TestStore db;
  queue_edus(db, "b.test", 0, 2);
  OutTransaction t = begin(db, "b.test");
  BOOST_TEST(t.pdus_through == 0u);
  queue_edus(db, "b.test", 2, 1);
  queue_pdus(db, "b.test", 0, 1);
  // Asking again (a retry) gives the same transaction, without the new items.
  OutTransaction again = begin(db, "b.test");
  BOOST_TEST(again.txn_id == t.txn_id);
  BOOST_TEST(again.edus_through == t.edus_through);
  BOOST_TEST(again.pdus_through == 0u);
  complete(db, "b.test");
  auto txn = db.read();
  auto left = peek_edus(*txn, "b.test", 100);
  BOOST_REQUIRE_EQUAL(left.size(), 1u);
  BOOST_TEST(left[0].json == edu(2));
  BOOST_TEST(peek_pdus(*txn, "b.test", 100).size() == 1u);
  BOOST_TEST(!transaction_in_flight(*txn, "b.test"));
}

BOOST_AUTO_TEST_CASE(a_delivered_destination_leaves_the_list) {
  test::TestStore db;
  queue_edus(db, "b.test", 0, 1);
  begin(db, "b.test");
  complete(db, "b.test");
  auto txn = db.read();
  BOOST_TEST(queued_destinations(*txn).empty());
  BOOST_TEST(peek_edus(*txn, "b.test", 100).empty());
}

BOOST_AUTO_TEST_CASE(nothing_queued_means_no_transaction) {
  test::TestStore db;
  std::optional<OutTransaction> t;
  db.write([&](storage::WriteTxn& txn) {
    storage::Status s;
    t = begin_transaction(txn, "b.test", &s);
    return s;
  });
  BOOST_TEST(!t);
}

BOOST_AUTO_TEST_CASE(a_dropped_destination_forgets_everything) {
  test::TestStore db;
  queue_edus(db, "b.test", 0, 3);
  queue_pdus(db, "b.test", 0, 3);
  queue_edus(db, "b.test.other", 0, 1);  // a name that b.test is a prefix of stays
  begin(db, "b.test");
  db.write([&](storage::WriteTxn& txn) { return drop_destination(txn, "b.test"); });
  auto txn = db.read();
  BOOST_TEST(peek_edus(*txn, "b.test", 100).empty());
  BOOST_TEST(peek_pdus(*txn, "b.test", 100).empty());
  BOOST_TEST(!transaction_in_flight(*txn, "b.test"));
  BOOST_TEST(peek_edus(*txn, "b.test.other", 100).size() == 1u);
  BOOST_TEST((queued_destinations(*txn) == std::vector<std::string>{"b.test.other"}));
}

BOOST_AUTO_TEST_CASE(the_queue_and_the_transaction_in_flight_survive_a_reopen) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "haven-outbox-XXXXXX").string();
  BOOST_REQUIRE(mkdtemp(tmpl.data()) != nullptr);
  storage::StoreOptions options;
  options.path = tmpl;
  options.initial_map_size = 1 << 20;
  std::string error;
  auto inline_post = [](std::function<void()> fn) { fn(); };
  std::string txn_id;
  {
    auto store = storage::open_lmdb_store(options, inline_post, &error);
    BOOST_REQUIRE(store);
    auto s = store->run([&](storage::WriteTxn& txn) {
      for (int i = 0; i < 3; ++i) {
        if (auto q = queue_edu(txn, "b.test", edu(i)); !q.ok()) return q;
      }
      if (auto q = queue_pdu(txn, "b.test", "!r:a.test", "$e"); !q.ok()) return q;
      storage::Status st;
      auto t = begin_transaction(txn, "b.test", &st);
      if (t) txn_id = t->txn_id;
      return st;
    });
    BOOST_REQUIRE(s.ok());
    store->close();
  }
  auto store = storage::open_lmdb_store(options, inline_post, &error);
  BOOST_REQUIRE(store);
  {
    auto txn = store->begin_read();
    auto t = transaction_in_flight(*txn, "b.test");
    BOOST_REQUIRE(t);
    BOOST_TEST(t->txn_id == txn_id);
    BOOST_TEST(peek_edus(*txn, "b.test", 100, t->edus_through).size() == 3u);
    BOOST_TEST(peek_pdus(*txn, "b.test", 100, t->pdus_through).size() == 1u);
    BOOST_TEST((queued_destinations(*txn) == std::vector<std::string>{"b.test"}));
  }
  store->close();
  std::filesystem::remove_all(tmpl);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::federation
