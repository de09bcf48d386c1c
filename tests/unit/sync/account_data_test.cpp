// Account data: storing, reading back and the stream of changes per user.
#include <boost/test/unit_test.hpp>

#include "homeserver/base/json.h"
#include "homeserver/sync/streams.h"
#include "tests/unit/support/test_store.h"

namespace haven::streams {
namespace {

void put(test::TestStore& ts, std::string user, std::string room, std::string type,
         std::string content) {
  ts.write(
      [&](storage::WriteTxn& txn) { return put_account_data(txn, user, room, type, content); });
}

std::vector<std::string> types_of(const std::vector<Document>& events) {
  std::vector<std::string> out;
  for (auto& e : events) out.push_back(json::get_string(e, "type"));
  return out;
}

using Types = std::vector<std::string>;

}  // namespace

BOOST_AUTO_TEST_SUITE(account_data)

BOOST_AUTO_TEST_CASE(items_read_back_per_user_room_and_type) {
  test::TestStore ts;
  put(ts, "@a:x", "", "org.example", R"({"v":1})");
  put(ts, "@a:x", "!r:x", "org.example", R"({"v":2})");
  put(ts, "@b:x", "", "org.example", R"({"v":3})");
  auto txn = ts.read();
  BOOST_TEST(get_account_data(*txn, "@a:x", "", "org.example").value_or("") == R"({"v":1})");
  BOOST_TEST(get_account_data(*txn, "@a:x", "!r:x", "org.example").value_or("") == R"({"v":2})");
  BOOST_TEST(get_account_data(*txn, "@b:x", "", "org.example").value_or("") == R"({"v":3})");
  BOOST_TEST(!get_account_data(*txn, "@a:x", "", "org.other").has_value());
  BOOST_TEST(!get_account_data(*txn, "@a:x", "!s:x", "org.example").has_value());
  BOOST_TEST(!get_account_data(*txn, "@c:x", "", "org.example").has_value());
}

BOOST_AUTO_TEST_CASE(positions_grow_with_every_write) {
  test::TestStore ts;
  BOOST_TEST(account_data_pos(*ts.read()) == 0u);
  put(ts, "@a:x", "", "t1", "{}");
  BOOST_TEST(account_data_pos(*ts.read()) == 1u);
  put(ts, "@b:x", "", "t1", "{}");
  put(ts, "@a:x", "", "t1", R"({"again":true})");
  BOOST_TEST(account_data_pos(*ts.read()) == 3u);
}

BOOST_AUTO_TEST_CASE(since_returns_only_newer_items_split_by_room) {
  test::TestStore ts;
  put(ts, "@a:x", "", "t1", R"({"n":1})");
  put(ts, "@a:x", "!r:x", "m.tag", R"({"tags":{}})");
  uint64_t seen = account_data_pos(*ts.read());
  put(ts, "@a:x", "", "t2", R"({"n":2})");
  put(ts, "@b:x", "", "t3", "{}");

  auto all = account_data_since(*ts.read(), "@a:x", 0);
  BOOST_TEST(types_of(all.global) == (Types{"t1", "t2"}));
  BOOST_REQUIRE(all.rooms.count("!r:x"));
  BOOST_TEST(types_of(all.rooms["!r:x"]) == Types{"m.tag"});
  BOOST_TEST(all.rooms["!r:x"][0]["content"].HasMember("tags"));

  auto newer = account_data_since(*ts.read(), "@a:x", seen);
  BOOST_TEST(types_of(newer.global) == Types{"t2"});
  BOOST_TEST(newer.global[0]["content"]["n"].GetInt() == 2);
  BOOST_TEST(newer.rooms.empty());
}

BOOST_AUTO_TEST_CASE(an_update_moves_the_item_forward_once) {
  test::TestStore ts;
  put(ts, "@a:x", "", "t1", R"({"n":1})");
  put(ts, "@a:x", "", "t2", "{}");
  uint64_t seen = account_data_pos(*ts.read());
  put(ts, "@a:x", "", "t1", R"({"n":2})");
  auto newer = account_data_since(*ts.read(), "@a:x", seen);
  BOOST_TEST(types_of(newer.global) == Types{"t1"});
  BOOST_TEST(newer.global[0]["content"]["n"].GetInt() == 2);
  // Everything from the start: each item once, with its newest content.
  auto all = account_data_since(*ts.read(), "@a:x", 0);
  BOOST_TEST(types_of(all.global) == (Types{"t2", "t1"}));
  BOOST_TEST(all.global[1]["content"]["n"].GetInt() == 2);
}

BOOST_AUTO_TEST_CASE(users_whose_ids_share_a_prefix_stay_apart) {
  test::TestStore ts;
  put(ts, "@a:x", "", "mine", "{}");
  put(ts, "@a:xy", "", "theirs", "{}");
  BOOST_TEST(types_of(account_data_since(*ts.read(), "@a:x", 0).global) == Types{"mine"});
  BOOST_TEST(types_of(account_data_since(*ts.read(), "@a:xy", 0).global) == Types{"theirs"});
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::streams
