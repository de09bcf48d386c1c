#include "homeserver/media/byte_range.h"

#include <boost/test/unit_test.hpp>

namespace haven::media {

namespace {

// The range a header asks of a 100-byte file; fails the test if it is ignored.
ByteRange range_of(const std::string& header, uint64_t size = 100) {
  auto r = parse_range(header, size);
  BOOST_REQUIRE_MESSAGE(r, "ignored: " << header);
  return *r;
}

void check_ignored(const std::string& header, uint64_t size = 100) {
  BOOST_TEST(!parse_range(header, size).has_value(), header);
}

void check_range(const std::string& header, uint64_t start, uint64_t length) {
  ByteRange r = range_of(header);
  BOOST_TEST(!r.unsatisfiable, header);
  BOOST_TEST(r.start == start, header);
  BOOST_TEST(r.length == length, header);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(byte_range)

BOOST_AUTO_TEST_CASE(single_closed_ranges_are_clamped_to_the_file) {
  check_range("bytes=0-0", 0, 1);
  check_range("bytes=10-19", 10, 10);
  check_range("bytes=0-99", 0, 100);
  check_range("bytes=90-1000", 90, 10);
  check_range("bytes=99-99", 99, 1);
}

BOOST_AUTO_TEST_CASE(open_ranges_run_to_the_end) {
  check_range("bytes=0-", 0, 100);
  check_range("bytes=42-", 42, 58);
  check_range("bytes=99-", 99, 1);
}

BOOST_AUTO_TEST_CASE(suffix_ranges_take_the_last_bytes) {
  check_range("bytes=-1", 99, 1);
  check_range("bytes=-30", 70, 30);
  check_range("bytes=-500", 0, 100);
}

BOOST_AUTO_TEST_CASE(ranges_past_the_end_are_unsatisfiable) {
  BOOST_TEST(range_of("bytes=100-").unsatisfiable);
  BOOST_TEST(range_of("bytes=100-200").unsatisfiable);
  BOOST_TEST(range_of("bytes=5000-6000").unsatisfiable);
  BOOST_TEST(range_of("bytes=-0").unsatisfiable);
  BOOST_TEST(range_of("bytes=0-", 0).unsatisfiable);  // an empty file has no byte 0
  BOOST_TEST(range_of("bytes=-5", 0).unsatisfiable);
}

BOOST_AUTO_TEST_CASE(multiple_ranges_are_ignored) {
  check_ignored("bytes=0-1,5-6");
  check_ignored("bytes=0-1, 5-6");
  check_ignored("bytes=-5,0-");
}

BOOST_AUTO_TEST_CASE(garbage_is_ignored) {
  BOOST_TEST(!parse_range(std::nullopt, 100).has_value());
  for (const char* bad : {"",
                          "bytes",
                          "bytes=",
                          "bytes=-",
                          "bytes=abc",
                          "bytes=1-abc",
                          "bytes=a-5",
                          "pages=1-2",
                          "bytes=9-3",
                          "bytes= 1-2",
                          "bytes=1 -2",
                          "bytes=+1-2",
                          "bytes=1-+2",
                          "bytes=--5",
                          "bytes=1-2-3",
                          "bytes=0x10-20",
                          "bytes=1.5-2",
                          "items=0-",
                          "bytes=-1-2",
                          "bytes=999999999999999999999999999999999999999-"}) {
    check_ignored(bad);
  }
}

BOOST_AUTO_TEST_CASE(decimals_are_bounded_digit_strings) {
  BOOST_TEST(parse_decimal("0").value() == 0u);
  BOOST_TEST(parse_decimal("123456789012345678").value() == 123456789012345678u);
  BOOST_TEST(!parse_decimal("1234567890123456789").has_value());  // 19 digits
  BOOST_TEST(!parse_decimal("").has_value());
  BOOST_TEST(!parse_decimal("-1").has_value());
  BOOST_TEST(!parse_decimal("+1").has_value());
  BOOST_TEST(!parse_decimal("1 ").has_value());
  BOOST_TEST(!parse_decimal("1e3").has_value());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::media
