// Presence: stored states, what /sync sees since a position and how the content reads at a
// given time (idle, currently_active, last_active_ago).
#include <boost/test/unit_test.hpp>

#include "homeserver/base/json.h"
#include "homeserver/sync/streams.h"
#include "tests/unit/support/test_store.h"

namespace haven::streams {
namespace {

constexpr int64_t kMinute = 60 * 1000;

Presence put(test::TestStore& ts, std::string user, std::string state, int64_t last_active,
             std::optional<std::string> status = std::nullopt) {
  Presence p;
  p.presence = state;
  p.last_active_ts = last_active;
  p.status_msg = status;
  ts.write([&](storage::WriteTxn& txn) { return put_presence(txn, user, p, true); });
  return p;
}

std::vector<std::string> senders(const std::vector<Document>& events) {
  std::vector<std::string> out;
  for (auto& e : events) {
    BOOST_TEST(json::get_string(e, "type") == "m.presence");
    out.push_back(json::get_string(e, "sender"));
  }
  return out;
}

using Users = std::vector<std::string>;

}  // namespace

BOOST_AUTO_TEST_SUITE(presence)

BOOST_AUTO_TEST_CASE(states_read_back) {
  test::TestStore ts;
  BOOST_TEST(!get_presence(*ts.read(), "@a:x").has_value());
  put(ts, "@a:x", "unavailable", 1234, "lunch");
  auto p = get_presence(*ts.read(), "@a:x");
  BOOST_REQUIRE(p.has_value());
  BOOST_TEST(p->presence == "unavailable");
  BOOST_TEST(p->status_msg.value_or("") == "lunch");
  BOOST_TEST(p->last_active_ts == 1234);
  BOOST_TEST(p->pos == 1u);
  BOOST_TEST(presence_pos(*ts.read()) == 1u);
}

BOOST_AUTO_TEST_CASE(refreshes_without_bump_keep_the_position) {
  test::TestStore ts;
  put(ts, "@a:x", "online", 1000);
  auto p = get_presence(*ts.read(), "@a:x");
  p->last_active_ts = 2000;
  ts.write([&](storage::WriteTxn& txn) { return put_presence(txn, "@a:x", *p, false); });
  p = get_presence(*ts.read(), "@a:x");
  BOOST_TEST(p->pos == 1u);
  BOOST_TEST(p->last_active_ts == 2000);
  BOOST_TEST(presence_pos(*ts.read()) == 1u);
}

BOOST_AUTO_TEST_CASE(since_returns_visible_users_who_changed) {
  test::TestStore ts;
  put(ts, "@a:x", "online", 1000);
  put(ts, "@b:x", "online", 1000);
  uint64_t seen = presence_pos(*ts.read());
  put(ts, "@c:x", "online", 1000);
  put(ts, "@b:x", "unavailable", 1000);
  std::set<std::string> visible{"@a:x", "@b:x", "@z:x"};
  BOOST_TEST(senders(presence_since(*ts.read(), 0, visible, 2000)) == (Users{"@a:x", "@b:x"}));
  BOOST_TEST(senders(presence_since(*ts.read(), seen, visible, 2000)) == Users{"@b:x"});
  auto ev = presence_since(*ts.read(), seen, visible, 2000);
  BOOST_TEST(json::get_string(ev[0]["content"], "presence") == "unavailable");
}

BOOST_AUTO_TEST_CASE(content_reports_activity_at_the_given_time) {
  Presence p;
  p.presence = "online";
  p.last_active_ts = 10 * kMinute;
  p.status_msg = "here";
  auto c = presence_content(p, 10 * kMinute + 500);
  BOOST_TEST(json::get_string(c, "presence") == "online");
  BOOST_TEST(json::get_int(c, "last_active_ago") == 500);
  BOOST_TEST(json::get_bool(c, "currently_active") == true);
  BOOST_TEST(json::get_string(c, "status_msg") == "here");

  c = presence_content(p, 13 * kMinute);
  BOOST_TEST(json::get_string(c, "presence") == "online");
  BOOST_TEST(json::get_bool(c, "currently_active", true) == false);

  // Idle for over five minutes: unavailable.
  c = presence_content(p, 16 * kMinute);
  BOOST_TEST(json::get_string(c, "presence") == "unavailable");
  BOOST_TEST(!c.HasMember("currently_active"));
  BOOST_TEST(json::get_int(c, "last_active_ago") == 6 * kMinute);
}

BOOST_AUTO_TEST_CASE(never_active_users_have_no_last_active_ago) {
  Presence p;
  auto c = presence_content(p, 1000);
  BOOST_TEST(json::get_string(c, "presence") == "offline");
  BOOST_TEST(!c.HasMember("last_active_ago"));
  BOOST_TEST(!c.HasMember("status_msg"));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::streams
