// Receipts: forward-only updates, the m.receipt events per room since a position, private
// receipts and the user's own read-up-to marker.
#include <boost/test/unit_test.hpp>

#include "homeserver/base/json.h"
#include "homeserver/sync/streams.h"
#include "tests/unit/support/test_store.h"

namespace haven::streams {
namespace {

bool put(test::TestStore& ts, Receipt r) {
  bool changed = false;
  ts.write([&](storage::WriteTxn& txn) { return put_receipt(txn, r, &changed); });
  return changed;
}

Receipt receipt(std::string room, std::string type, std::string user, std::string event,
                uint64_t event_pos, std::string thread = "") {
  return Receipt{
      room, type, user, thread, event, event_pos, 1000 + static_cast<int64_t>(event_pos)};
}

// "event type user [thread]" for every receipt in an m.receipt event, sorted.
std::vector<std::string> flatten(const std::optional<Document>& ev) {
  std::vector<std::string> out;
  if (!ev) return out;
  BOOST_TEST(json::get_string(*ev, "type") == "m.receipt");
  for (auto& e : (*ev)["content"].GetObject()) {
    for (auto& t : e.value.GetObject()) {
      for (auto& u : t.value.GetObject()) {
        std::string s =
            std::string(e.name.GetString()) + " " + t.name.GetString() + " " + u.name.GetString();
        if (u.value.HasMember("thread_id"))
          s += std::string(" ") + u.value["thread_id"].GetString();
        BOOST_TEST(u.value["ts"].IsInt64());
        out.push_back(s);
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

using Lines = std::vector<std::string>;

}  // namespace

BOOST_AUTO_TEST_SUITE(receipts)

BOOST_AUTO_TEST_CASE(receipts_only_move_forward) {
  test::TestStore ts;
  BOOST_TEST(put(ts, receipt("!r:x", "m.read", "@a:x", "$5", 5)));
  BOOST_TEST(!put(ts, receipt("!r:x", "m.read", "@a:x", "$3", 3)));
  BOOST_TEST(!put(ts, receipt("!r:x", "m.read", "@a:x", "$5", 5)));
  BOOST_TEST(receipts_pos(*ts.read()) == 1u);
  BOOST_TEST(put(ts, receipt("!r:x", "m.read", "@a:x", "$7", 7)));
  BOOST_TEST(receipts_pos(*ts.read()) == 2u);
  BOOST_TEST(flatten(receipts_since(*ts.read(), "!r:x", 0, "@b:x")) == Lines{"$7 m.read @a:x"});
}

BOOST_AUTO_TEST_CASE(threads_and_types_are_separate_receipts) {
  test::TestStore ts;
  BOOST_TEST(put(ts, receipt("!r:x", "m.read", "@a:x", "$5", 5)));
  BOOST_TEST(put(ts, receipt("!r:x", "m.read", "@a:x", "$3", 3, "main")));
  BOOST_TEST(put(ts, receipt("!r:x", "m.read", "@a:x", "$4", 4, "$root")));
  BOOST_TEST(put(ts, receipt("!r:x", "m.read.private", "@a:x", "$2", 2)));
  BOOST_TEST(flatten(receipts_since(*ts.read(), "!r:x", 0, "@a:x")) ==
             (Lines{"$2 m.read.private @a:x", "$3 m.read @a:x main", "$4 m.read @a:x $root",
                    "$5 m.read @a:x"}));
}

BOOST_AUTO_TEST_CASE(private_receipts_are_only_for_their_owner) {
  test::TestStore ts;
  put(ts, receipt("!r:x", "m.read.private", "@a:x", "$2", 2));
  put(ts, receipt("!r:x", "m.read", "@b:x", "$1", 1));
  BOOST_TEST(flatten(receipts_since(*ts.read(), "!r:x", 0, "@a:x")) ==
             (Lines{"$1 m.read @b:x", "$2 m.read.private @a:x"}));
  BOOST_TEST(flatten(receipts_since(*ts.read(), "!r:x", 0, "@b:x")) == Lines{"$1 m.read @b:x"});
  // Incremental too.
  BOOST_TEST(flatten(receipts_since(*ts.read(), "!r:x", 1, "@b:x")) == Lines{"$1 m.read @b:x"});
  BOOST_TEST(!receipts_since(*ts.read(), "!r:x", 2, "@c:x").has_value());
}

BOOST_AUTO_TEST_CASE(since_returns_only_newer_receipts_of_the_room) {
  test::TestStore ts;
  put(ts, receipt("!r:x", "m.read", "@a:x", "$1", 1));
  put(ts, receipt("!s:x", "m.read", "@a:x", "$2", 2));
  uint64_t seen = receipts_pos(*ts.read());
  BOOST_TEST(!receipts_since(*ts.read(), "!r:x", seen, "@a:x").has_value());
  put(ts, receipt("!r:x", "m.read", "@b:x", "$3", 3));
  put(ts, receipt("!s:x", "m.read", "@b:x", "$4", 4));
  BOOST_TEST(flatten(receipts_since(*ts.read(), "!r:x", seen, "@a:x")) == Lines{"$3 m.read @b:x"});
  BOOST_TEST(flatten(receipts_since(*ts.read(), "!s:x", seen, "@a:x")) == Lines{"$4 m.read @b:x"});
  BOOST_TEST(!receipts_since(*ts.read(), "!t:x", 0, "@a:x").has_value());
}

BOOST_AUTO_TEST_CASE(a_long_gap_reads_the_room_instead_of_the_stream) {
  test::TestStore ts;
  put(ts, receipt("!r:x", "m.read", "@a:x", "$1", 1));
  uint64_t seen = receipts_pos(*ts.read());
  put(ts, receipt("!r:x", "m.read", "@b:x", "$2", 2));
  ts.write([&](storage::WriteTxn& txn) {
    bool changed = false;
    for (int i = 0; i < 1000; ++i) {
      auto s = put_receipt(
          txn, receipt("!busy:x", "m.read", "@u" + std::to_string(i) + ":x", "$9", 9), &changed);
      if (!s.ok()) return s;
    }
    return storage::Status::ok_status();
  });
  put(ts, receipt("!r:x", "m.read", "@c:x", "$3", 3));
  BOOST_TEST(receipts_pos(*ts.read()) - seen > 512u);
  BOOST_TEST(flatten(receipts_since(*ts.read(), "!r:x", seen, "@a:x")) ==
             (Lines{"$2 m.read @b:x", "$3 m.read @c:x"}));
}

BOOST_AUTO_TEST_CASE(own_read_receipt_is_the_furthest_unthreaded_or_main_one) {
  test::TestStore ts;
  BOOST_TEST(!own_read_receipt(*ts.read(), "!r:x", "@a:x").has_value());
  put(ts, receipt("!r:x", "m.read", "@a:x", "$5", 5));
  BOOST_TEST(own_read_receipt(*ts.read(), "!r:x", "@a:x").value_or("") == "$5");
  put(ts, receipt("!r:x", "m.read.private", "@a:x", "$8", 8));
  BOOST_TEST(own_read_receipt(*ts.read(), "!r:x", "@a:x").value_or("") == "$8");
  put(ts, receipt("!r:x", "m.read", "@a:x", "$9", 9, "main"));
  BOOST_TEST(own_read_receipt(*ts.read(), "!r:x", "@a:x").value_or("") == "$9");
  // A receipt inside a thread does not mark the room read.
  put(ts, receipt("!r:x", "m.read", "@a:x", "$12", 12, "$root"));
  BOOST_TEST(own_read_receipt(*ts.read(), "!r:x", "@a:x").value_or("") == "$9");
  // Nor do other users' receipts.
  put(ts, receipt("!r:x", "m.read", "@b:x", "$20", 20));
  BOOST_TEST(own_read_receipt(*ts.read(), "!r:x", "@a:x").value_or("") == "$9");
  BOOST_TEST(own_read_receipt(*ts.read(), "!r:x", "@b:x").value_or("") == "$20");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::streams
