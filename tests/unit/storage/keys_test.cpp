// Tests of storage/keys.cpp: byte layout, round trips, ordering, truncated input.
#include "storage/keys.h"

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cstring>
#include <random>
#include <vector>

namespace haven::storage {
namespace {

// LMDB's default key order: memcmp, shorter first on a tie.
bool byte_less(const std::string& a, const std::string& b) {
  int c = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
  return c != 0 ? c < 0 : a.size() < b.size();
}

BOOST_AUTO_TEST_SUITE(keys)

BOOST_AUTO_TEST_CASE(builder_writes_big_endian_ints_and_nul_terminated_strings) {
  std::string key = KeyBuilder().str("!r").u32(0x01020304).u64(0x05).tail("x").take();
  std::string want("!r\0\x01\x02\x03\x04\0\0\0\0\0\0\0\x05x", 16);
  BOOST_TEST(key == want);
}

BOOST_AUTO_TEST_CASE(reader_reads_back_every_part_in_order) {
  std::string key =
      KeyBuilder().str("!room:hs").u64(0xFEDCBA9876543210ull).str("").u32(7).tail("rest").take();
  KeyReader r(key);
  auto room = r.str();
  BOOST_REQUIRE(room);
  BOOST_TEST(*room == "!room:hs");
  auto pos = r.u64();
  BOOST_REQUIRE(pos);
  BOOST_TEST(*pos == 0xFEDCBA9876543210ull);
  auto empty = r.str();
  BOOST_REQUIRE(empty);
  BOOST_TEST(empty->empty());
  auto small = r.u32();
  BOOST_REQUIRE(small);
  BOOST_TEST(*small == 7u);
  BOOST_TEST(!r.done());
  BOOST_TEST(r.tail() == "rest");
  BOOST_TEST(r.done());
}

BOOST_AUTO_TEST_CASE(u64_byte_order_equals_numeric_order) {
  std::vector<uint64_t> values = {
      0, 1, 255, 256, 65535, 65536, 0xFFFFFFFFu, 0x100000000ull, 1ull << 63, ~0ull - 1, ~0ull};
  std::mt19937_64 rng(42);
  for (int i = 0; i < 200; ++i) values.push_back(rng() >> (rng() % 64));
  for (uint64_t a : values) {
    for (uint64_t b : values) {
      BOOST_TEST_REQUIRE(byte_less(encode_u64(a), encode_u64(b)) == (a < b),
                         "a=" << a << " b=" << b);
      BOOST_TEST_REQUIRE(byte_less(KeyBuilder().u64(a).take(), KeyBuilder().u64(b).take()) ==
                         (a < b));
    }
  }
}

BOOST_AUTO_TEST_CASE(u32_byte_order_equals_numeric_order) {
  std::vector<uint32_t> values = {0, 1, 255, 256, 0x00FFFFFF, 0x01000000, 0x7FFFFFFF, 0xFFFFFFFF};
  for (uint32_t a : values) {
    for (uint32_t b : values) {
      BOOST_TEST_REQUIRE(byte_less(KeyBuilder().u32(a).take(), KeyBuilder().u32(b).take()) ==
                         (a < b));
    }
  }
}

BOOST_AUTO_TEST_CASE(nul_separated_strings_sort_by_first_part) {
  // Plain concatenation would put "a"+"z" after "ab"+"a"; the separator keeps "a" first.
  BOOST_TEST(
      byte_less(KeyBuilder().str("a").str("z").take(), KeyBuilder().str("ab").str("a").take()));
  // A room's timeline entries all sort before those of a room whose id extends it.
  BOOST_TEST(byte_less(KeyBuilder().str("!room").u64(~0ull).take(),
                       KeyBuilder().str("!room2").u64(0).take()));
  // Within one first part, the second part decides.
  BOOST_TEST(
      byte_less(KeyBuilder().str("!room").u64(9).take(), KeyBuilder().str("!room").u64(10).take()));
}

BOOST_AUTO_TEST_CASE(reader_yields_nullopt_on_truncated_ints) {
  std::string seven(7, '\x01');
  KeyReader r64(seven);
  BOOST_TEST(!r64.u64().has_value());
  std::string three(3, '\x01');
  KeyReader r32(three);
  BOOST_TEST(!r32.u32().has_value());
  KeyReader empty("");
  BOOST_TEST(!empty.u64().has_value());
  BOOST_TEST(!empty.u32().has_value());
  BOOST_TEST(!empty.str().has_value());
}

BOOST_AUTO_TEST_CASE(reader_str_fails_without_terminator) {
  KeyReader r("no-terminator");
  BOOST_TEST(!r.str().has_value());
  // A key cut inside its second string: the first part reads, the second does not.
  std::string key = KeyBuilder().str("user").str("device").take();
  key.pop_back();
  KeyReader cut(key);
  auto first = cut.str();
  BOOST_REQUIRE(first);
  BOOST_TEST(*first == "user");
  BOOST_TEST(!cut.str().has_value());
}

BOOST_AUTO_TEST_CASE(reader_past_the_end_after_full_read_yields_nullopt) {
  std::string key = KeyBuilder().u64(5).take();
  KeyReader r(key);
  BOOST_REQUIRE(r.u64());
  BOOST_TEST(r.done());
  BOOST_TEST(!r.u64().has_value());
}

BOOST_AUTO_TEST_CASE(encode_decode_u64_round_trip_and_length_check) {
  for (uint64_t v : {0ull, 1ull, 0x0102030405060708ull, ~0ull}) {
    std::string bytes = encode_u64(v);
    BOOST_TEST(bytes.size() == 8u);
    auto back = decode_u64(bytes);
    BOOST_REQUIRE(back);
    BOOST_TEST(*back == v);
  }
  BOOST_TEST(encode_u64(0x0102030405060708ull) == std::string("\x01\x02\x03\x04\x05\x06\x07\x08"));
  BOOST_TEST(!decode_u64("1234567").has_value());
  BOOST_TEST(!decode_u64("123456789").has_value());
  BOOST_TEST(!decode_u64("").has_value());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace haven::storage
