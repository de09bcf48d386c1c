#include "homeserver/http/chunked_decoder.h"

#include <boost/test/unit_test.hpp>

namespace haven::http {

namespace {
using State = ChunkedDecoder::State;

// Feeds `encoded` in pieces of `step` bytes; returns the decoded body and the bytes left over.
struct Decoded {
  std::string body;
  State state;
  size_t used;
};
Decoded decode(std::string_view encoded, size_t step, uint64_t limit = UINT64_MAX) {
  ChunkedDecoder d;
  Decoded out{"", State::kReading, 0};
  ChunkedDecoder::Sink sink = [&](std::string_view bytes) {
    if (out.body.size() + bytes.size() > limit) return false;
    out.body.append(bytes);
    return true;
  };
  while (out.used < encoded.size() && d.state() == State::kReading) {
    std::string_view piece = encoded.substr(out.used, step);
    out.used += d.feed(piece, sink);
  }
  out.state = d.state();
  return out;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(chunked_decoder)

BOOST_AUTO_TEST_CASE(decodes_in_any_pieces) {
  const std::string encoded = "5\r\nhello\r\n1;name=value\r\n \r\nA\r\n0123456789\r\n0\r\n\r\nNEXT";
  for (size_t step : {1u, 2u, 3u, 7u, 100u}) {
    auto d = decode(encoded, step);
    BOOST_TEST((d.state == State::kDone), "step " << step);
    BOOST_TEST(d.body == "hello 0123456789", "step " << step);
    BOOST_TEST(encoded.substr(d.used) == "NEXT", "step " << step);
  }
}

BOOST_AUTO_TEST_CASE(trailers_are_consumed) {
  auto d = decode("3\r\nabc\r\n0\r\nX-Sum: 1\r\nY: 2\r\n\r\n", 4);
  BOOST_TEST((d.state == State::kDone));
  BOOST_TEST(d.body == "abc");
}

BOOST_AUTO_TEST_CASE(an_empty_body_is_just_the_last_chunk) {
  auto d = decode("0\r\n\r\n", 1);
  BOOST_TEST((d.state == State::kDone));
  BOOST_TEST(d.body.empty());
}

BOOST_AUTO_TEST_CASE(incomplete_input_keeps_reading) {
  auto d = decode("5\r\nhel", 2);
  BOOST_TEST((d.state == State::kReading));
  BOOST_TEST(d.body == "hel");
}

BOOST_AUTO_TEST_CASE(malformed_framing_is_refused) {
  for (std::string_view bad : {"zz\r\n", "\r\n", "5\r\nhelloX\r\n", "5\nhello\r\n", "-1\r\n",
                               "5 x\r\n", "1234567890abcdef0\r\n"}) {
    BOOST_TEST((decode(bad, 1).state == State::kMalformed), bad);
  }
  BOOST_TEST((decode(std::string(5000, '1'), 64).state == State::kMalformed));
  BOOST_TEST((decode("1;" + std::string(5000, 'e') + "\r\n", 64).state == State::kMalformed));
  BOOST_TEST((decode("0\r\n" + std::string(5000, 't'), 64).state == State::kMalformed));
}

BOOST_AUTO_TEST_CASE(a_refusing_sink_stops_decoding) {
  auto d = decode("4\r\nabcd\r\n4\r\nefgh\r\n0\r\n\r\n", 3, 5);
  BOOST_TEST((d.state == State::kStopped));
  BOOST_TEST(d.body.size() <= 5u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::http
