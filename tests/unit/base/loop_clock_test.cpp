// The one clock and the loop's deadline timers: advancing the test clock moves now_ms() and
// fires at() timers whose time has come, while after() timers keep to real time.
#define BOOST_TEST_MODULE base
#include <boost/test/unit_test.hpp>

#include "homeserver/base/loop.h"

namespace haven {
namespace {
constexpr int64_t kHour = 60 * 60 * 1000;
}  // namespace

BOOST_AUTO_TEST_CASE(advancing_moves_now_forward) {
  int64_t before = now_ms();
  advance_clock(kHour);
  BOOST_TEST(now_ms() >= before + kHour);
  int64_t after = now_ms();
  advance_clock(0);  // not a move
  advance_clock(-kHour);
  BOOST_TEST(now_ms() >= after);
}

BOOST_AUTO_TEST_CASE(an_at_timer_fires_when_the_clock_is_advanced_past_it) {
  Loop loop;
  bool fired_in_time = false;
  auto deadline = loop.at(now_ms() + 24 * kHour, [&] {
    fired_in_time = true;
    loop.stop();
  });
  auto later = loop.at(now_ms() + 48 * kHour, [] { BOOST_FAIL("fired a day early"); });
  auto advance = loop.after(10, [&] {
    advance_clock(24 * kHour);
    loop.clock_advanced();
  });
  auto give_up = loop.after(10'000, [&] { loop.stop(); });  // fail rather than hang
  loop.run();
  BOOST_TEST(fired_in_time);
}

BOOST_AUTO_TEST_CASE(a_destroyed_at_timer_never_fires) {
  Loop loop;
  bool fired = false;
  auto doomed = loop.at(now_ms() + kHour, [&] { fired = true; });
  doomed.reset();
  auto advance = loop.after(10, [&] {
    advance_clock(2 * kHour);
    loop.clock_advanced();
  });
  auto stop = loop.after(50, [&] { loop.stop(); });
  loop.run();
  BOOST_TEST(!fired);
}

}  // namespace haven
