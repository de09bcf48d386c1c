// Sliding sync connection state: pos texts, the latest and previous state per connection,
// retries, superseded requests, per-device bounds and forgetting a device.
#include "homeserver/sync/sliding_connections.h"

#include <boost/test/unit_test.hpp>

namespace haven::sync {
namespace {

ConnectionKey key(std::string conn = "main", std::string device = "DEV") {
  return ConnectionKey{"@a:x", std::move(device), std::move(conn)};
}

ConnectionStatePtr state_at(uint64_t events) {
  auto s = std::make_shared<ConnectionState>();
  s->streams.events = events;
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sliding_connections)

BOOST_AUTO_TEST_CASE(pos_carries_the_stream_positions_and_the_state_id) {
  SyncToken t;
  t.events = 7;
  std::string pos = sliding_pos(t, 1234);
  BOOST_TEST(*sliding_pos_state_id(pos) == 1234u);
  BOOST_TEST(pos.rfind(t.to_string(), 0) == 0u);
  BOOST_TEST(parse_pagination_token(pos).value() == 7u);
  for (const char* bad : {"", "s1_2", "~", "s1~", "s1~x", "s1~0", "s1~12a"}) {
    BOOST_TEST(!sliding_pos_state_id(bad).has_value(), bad);
  }
}

BOOST_AUTO_TEST_CASE(the_latest_and_the_previous_state_are_kept) {
  SlidingConnections c(100);
  c.begin_request(key(), 0);
  uint64_t s1 = c.commit(key(), 0, state_at(1), 0);
  uint64_t s2 = c.commit(key(), s1, state_at(2), 0);
  BOOST_TEST(c.find(key(), s1)->streams.events == 1u);  // a retry of the lost response
  BOOST_TEST(c.find(key(), s2)->streams.events == 2u);
  uint64_t s3 = c.commit(key(), s1, state_at(3), 0);  // the client retried from s1
  BOOST_TEST(!c.find(key(), s2));
  BOOST_TEST(c.find(key(), s1));
  uint64_t s4 = c.commit(key(), s3, state_at(4), 0);  // and moved on
  BOOST_TEST(!c.find(key(), s1));
  BOOST_TEST(c.find(key(), s3));
  BOOST_TEST(c.find(key(), s4));
  BOOST_TEST(s1 >= 100u);
}

BOOST_AUTO_TEST_CASE(states_belong_to_one_connection) {
  SlidingConnections c(1);
  c.begin_request(key("one"), 0);
  uint64_t s = c.commit(key("one"), 0, state_at(1), 0);
  BOOST_TEST(!c.find(key("two"), s));
  BOOST_TEST(!c.find(key("one", "OTHER"), s));
  BOOST_TEST(!c.find(ConnectionKey{"@b:x", "DEV", "one"}, s));
  BOOST_TEST(!c.find(key("one"), 0));
}

BOOST_AUTO_TEST_CASE(a_newer_request_supersedes_the_one_waiting) {
  SlidingConnections c(1);
  uint64_t first = c.begin_request(key(), 0);
  BOOST_TEST(c.is_current(key(), first));
  uint64_t second = c.begin_request(key(), 0);
  BOOST_TEST(!c.is_current(key(), first));
  BOOST_TEST(c.is_current(key(), second));
}

BOOST_AUTO_TEST_CASE(a_device_keeps_at_most_ten_connections) {
  SlidingConnections c(1);
  for (size_t i = 0; i < SlidingConnections::kMaxPerDevice; ++i) {
    c.begin_request(key("c" + std::to_string(i)), static_cast<int64_t>(i));
  }
  c.begin_request(key("c0"), 100);  // c0 is used again: c1 is now the least recent
  c.begin_request(key("new"), 101);
  BOOST_TEST(c.size() == SlidingConnections::kMaxPerDevice);
  BOOST_TEST(c.commit(key("c0"), 0, state_at(1), 102) != 0u);
  BOOST_TEST(c.commit(key("c1"), 0, state_at(1), 102) == 0u);  // evicted
  c.begin_request(key("elsewhere", "DEV2"), 103);
  BOOST_TEST(c.size() == SlidingConnections::kMaxPerDevice + 1);
}

BOOST_AUTO_TEST_CASE(idle_connections_expire_and_devices_are_forgotten) {
  SlidingConnections c(1);
  c.begin_request(key("old"), 0);
  c.begin_request(key("other", "DEV2"), SlidingConnections::kIdleExpiryMs);
  c.begin_request(key("kept"), SlidingConnections::kIdleExpiryMs + 1);
  c.begin_request(key("trigger"), 2 * SlidingConnections::kIdleExpiryMs - 10);
  BOOST_TEST(c.size() == 3u);  // "old" expired
  c.forget_device("@a:x", "DEV");
  BOOST_TEST(c.size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::sync
