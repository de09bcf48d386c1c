#include "homeserver/http/request_head.h"

#include <boost/test/unit_test.hpp>

namespace haven::http {

namespace {
Result<RequestHead> parse(std::string_view text) { return parse_request_head(text); }
int status_of(std::string_view text) {
  auto r = parse(text);
  return r.ok() ? 0 : r.error().status;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(request_head)

BOOST_AUTO_TEST_CASE(the_head_ends_at_the_first_blank_line) {
  BOOST_TEST(request_head_length("GET / HTTP/1.1\r\nHost: x\r\n") == 0u);
  BOOST_TEST(request_head_length("GET / HTTP/1.1\r\nHost: x\r\n\r\nbody") == 27u);
}

BOOST_AUTO_TEST_CASE(request_line_and_fields_are_read) {
  auto r = parse(
      "POST /_matrix/media/v3/upload?filename=a HTTP/1.1\r\nHost: x\r\n"
      "content-length:  12 \r\nX-Empty:\r\n\r\n");
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->method == "POST");
  BOOST_TEST(r->target == "/_matrix/media/v3/upload?filename=a");
  BOOST_TEST(r->content_length == 12u);
  BOOST_TEST(!r->chunked);
  BOOST_TEST(r->keep_alive);
  BOOST_TEST(r->header("Content-Length").value() == "12");
  BOOST_TEST(r->header("x-empty").value() == "");
  BOOST_TEST(!r->header("Missing").has_value());
}

BOOST_AUTO_TEST_CASE(leading_empty_lines_are_ignored) {
  auto r = parse("\r\n\r\nGET / HTTP/1.1\r\n\r\n");
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->method == "GET");
}

BOOST_AUTO_TEST_CASE(chunked_bodies_and_no_body) {
  auto r = parse("PUT /x HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n");
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->chunked);
  auto none = parse("GET /x HTTP/1.1\r\n\r\n");
  BOOST_REQUIRE(none.ok());
  BOOST_TEST(!none->chunked);
  BOOST_TEST(none->content_length == 0u);
}

BOOST_AUTO_TEST_CASE(connection_persistence_follows_version_and_connection_field) {
  BOOST_TEST(!parse("GET / HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n")->keep_alive);
  BOOST_TEST(!parse("GET / HTTP/1.0\r\n\r\n")->keep_alive);
  BOOST_TEST(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")->keep_alive);
}

BOOST_AUTO_TEST_CASE(expect_continue_is_noted_only_for_http_1_1) {
  BOOST_TEST(parse("PUT / HTTP/1.1\r\nExpect: 100-Continue\r\n\r\n")->expect_continue);
  BOOST_TEST(!parse("PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n")->expect_continue);
  BOOST_TEST(status_of("PUT / HTTP/1.1\r\nExpect: something\r\n\r\n") == 417);
}

BOOST_AUTO_TEST_CASE(ambiguous_body_lengths_are_refused) {
  BOOST_TEST(
      status_of("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n") ==
      400);
  BOOST_TEST(status_of("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n") == 400);
  BOOST_TEST(status_of("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n") == 0);
  BOOST_TEST(status_of("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n") == 400);
  BOOST_TEST(status_of("POST / HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n") == 400);
  BOOST_TEST(status_of("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n") == 400);
  BOOST_TEST(status_of("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n") == 400);
  BOOST_TEST(status_of("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n") == 501);
  BOOST_TEST(status_of("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n") == 501);
  BOOST_TEST(status_of("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n") == 400);
}

BOOST_AUTO_TEST_CASE(malformed_heads_are_refused) {
  BOOST_TEST(status_of("\r\n") == 400);
  BOOST_TEST(status_of("GET\r\n\r\n") == 400);
  BOOST_TEST(status_of("GET /\r\n\r\n") == 400);
  BOOST_TEST(status_of("GET  / HTTP/1.1\r\n\r\n") == 400);
  BOOST_TEST(status_of("G(T / HTTP/1.1\r\n\r\n") == 400);
  BOOST_TEST(status_of("GET http://a/ HTTP/1.1\r\n\r\n") == 400);
  BOOST_TEST(status_of("GET / HTTP/2.0\r\n\r\n") == 505);
  BOOST_TEST(status_of("GET / HTTQ/1.1\r\n\r\n") == 400);
  BOOST_TEST(status_of("GET / HTTP/1.1\r\nNo-Colon\r\n\r\n") == 400);
  BOOST_TEST(status_of("GET / HTTP/1.1\r\nSpace Name: x\r\n\r\n") == 400);
  BOOST_TEST(status_of("GET / HTTP/1.1\r\nName : x\r\n\r\n") == 400);
  BOOST_TEST(status_of("GET / HTTP/1.1\r\nA: x\r\n folded\r\n\r\n") == 400);
  BOOST_TEST(status_of("GET / HTTP/1.1\r\nA: x\ny\r\n\r\n") == 400);
  BOOST_TEST(status_of(std::string_view("GET / HTTP/1.1\r\nA: x\0y\r\n\r\n", 27)) == 400);
  BOOST_TEST(status_of("GET /a\x01 HTTP/1.1\r\n\r\n") == 400);
}

BOOST_AUTO_TEST_CASE(options_asterisk_is_a_target) {
  BOOST_TEST(status_of("OPTIONS * HTTP/1.1\r\n\r\n") == 0);
  BOOST_TEST(status_of("GET * HTTP/1.1\r\n\r\n") == 400);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::http
