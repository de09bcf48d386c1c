// When notices may go out: idle first, then the frequency's window; and the retry backoff.
#include "homeserver/email/schedule.h"

#include <boost/test/unit_test.hpp>

namespace haven::email {
namespace {
constexpr int64_t kMinute = 60 * 1000;
constexpr int64_t kIdle = 10 * kMinute;
constexpr int64_t kT = 1'700'000'000'000;  // some wall-clock time
}  // namespace

BOOST_AUTO_TEST_SUITE(schedule)

BOOST_AUTO_TEST_CASE(immediate_goes_out_at_once_for_an_idle_recipient) {
  BOOST_TEST(*notice_due_ms(Frequency::kImmediate, kT, 0, kIdle) == kT);
  BOOST_TEST(*notice_due_ms(Frequency::kImmediate, kT, kT - kIdle - 1, kIdle) == kT);
}

BOOST_AUTO_TEST_CASE(an_active_recipient_is_mailed_only_once_idle) {
  int64_t last_active = kT - kMinute;
  BOOST_TEST(*notice_due_ms(Frequency::kImmediate, kT, last_active, kIdle) == last_active + kIdle);
  // Activity after the message moves the notice further.
  BOOST_TEST(*notice_due_ms(Frequency::kImmediate, kT, kT + 5 * kMinute, kIdle) ==
             kT + 15 * kMinute);
}

BOOST_AUTO_TEST_CASE(digests_wait_for_their_window) {
  BOOST_TEST(*notice_due_ms(Frequency::kHourly, kT, 0, kIdle) == kT + kHourMs);
  BOOST_TEST(*notice_due_ms(Frequency::kDaily, kT, 0, kIdle) == kT + kDayMs);
  // Idle long before the window closes: the window decides.
  BOOST_TEST(*notice_due_ms(Frequency::kHourly, kT, kT + kMinute, kIdle) == kT + kHourMs);
  // Active at the end of the window: idle decides.
  int64_t late = kT + kHourMs - kMinute;
  BOOST_TEST(*notice_due_ms(Frequency::kHourly, kT, late, kIdle) == late + kIdle);
}

BOOST_AUTO_TEST_CASE(off_never_sends) {
  BOOST_TEST(!notice_due_ms(Frequency::kOff, kT, 0, kIdle).has_value());
  BOOST_TEST(!digest_window_ms(Frequency::kOff).has_value());
}

BOOST_AUTO_TEST_CASE(retries_back_off_to_at_most_an_hour) {
  BOOST_TEST(retry_delay_ms(1) == kMinute);
  BOOST_TEST(retry_delay_ms(2) == 2 * kMinute);
  BOOST_TEST(retry_delay_ms(3) == 4 * kMinute);
  BOOST_TEST(retry_delay_ms(7) == kHourMs);  // 64 minutes capped
  BOOST_TEST(retry_delay_ms(1000) == kHourMs);
  BOOST_TEST(retry_delay_ms(0) == kMinute);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::email
