#include "homeserver/rooms/ids.h"

#include <boost/test/unit_test.hpp>
#include <string>

namespace haven::rooms {

BOOST_AUTO_TEST_SUITE(ids)

BOOST_AUTO_TEST_CASE(server_names_follow_the_grammar) {
  BOOST_TEST(is_valid_server_name("matrix.org"));
  BOOST_TEST(is_valid_server_name("matrix.org:8888"));
  BOOST_TEST(is_valid_server_name("1.2.3.4"));
  BOOST_TEST(is_valid_server_name("1.2.3.4:1234"));
  BOOST_TEST(is_valid_server_name("[1234:5678::abcd]"));
  BOOST_TEST(is_valid_server_name("[1234:5678::abcd]:5678"));
  BOOST_TEST(!is_valid_server_name(""));
  BOOST_TEST(!is_valid_server_name("matrix.org:"));
  BOOST_TEST(!is_valid_server_name("matrix.org:123456"));
  BOOST_TEST(!is_valid_server_name("matrix.org:80a"));
  BOOST_TEST(!is_valid_server_name("under_score.org"));
  BOOST_TEST(!is_valid_server_name("[1234:5678::abcd"));
  BOOST_TEST(!is_valid_server_name("[xyz]"));
  BOOST_TEST(!is_valid_server_name(std::string(256, 'a')));
}

BOOST_AUTO_TEST_CASE(user_ids_accept_the_historical_grammar) {
  BOOST_TEST(is_valid_user_id("@alice:example.org"));
  BOOST_TEST(is_valid_user_id("@Alice!*:example.org"));   // historical characters
  BOOST_TEST(is_valid_user_id("@:example.org"));          // historical empty localpart
  BOOST_TEST(is_valid_user_id("@\xc3\xa9:example.org"));  // non-ASCII, valid UTF-8
  BOOST_TEST(!is_valid_user_id("alice:example.org"));
  BOOST_TEST(!is_valid_user_id("@alice"));
  BOOST_TEST(!is_valid_user_id("@alice:"));
  BOOST_TEST(!is_valid_user_id("@alice:bad_host"));
  BOOST_TEST(!is_valid_user_id(std::string("@a\0b:example.org", 16)));
  BOOST_TEST(!is_valid_user_id("@\xff:example.org"));
}

BOOST_AUTO_TEST_CASE(user_ids_are_limited_to_255_bytes) {
  std::string server = ":example.org";
  std::string at_limit = "@" + std::string(255 - 1 - server.size(), 'a') + server;
  BOOST_TEST(at_limit.size() == 255u);
  BOOST_TEST(is_valid_user_id(at_limit));
  BOOST_TEST(!is_valid_user_id("@a" + at_limit.substr(1)));
}

BOOST_AUTO_TEST_CASE(compliant_localparts_use_the_restricted_alphabet) {
  BOOST_TEST(is_valid_user_localpart("alice.b_c=d-e/f+g9"));
  BOOST_TEST(!is_valid_user_localpart(""));
  BOOST_TEST(!is_valid_user_localpart("Alice"));
  BOOST_TEST(!is_valid_user_localpart("a b"));
  BOOST_TEST(is_compliant_user_id("@alice:example.org"));
  BOOST_TEST(!is_compliant_user_id("@Alice:example.org"));
}

BOOST_AUTO_TEST_CASE(room_ids_take_the_domain_or_the_hash_form) {
  BOOST_TEST(is_valid_room_id("!abc:example.org"));
  BOOST_TEST(is_valid_room_id("!Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYQ"));
  BOOST_TEST(is_hash_room_id("!Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYQ"));
  BOOST_TEST(!is_hash_room_id("!abc:example.org"));
  BOOST_TEST(!is_valid_room_id("!short"));
  BOOST_TEST(!is_valid_room_id("#abc:example.org"));
  BOOST_TEST(!is_valid_room_id("!abc:"));
  BOOST_TEST(!is_valid_room_id("!Nhcu5BS+UMnFX7hBVfVSoXiD7OgH6iRT/xyIuqDnpYQ"));
}

BOOST_AUTO_TEST_CASE(aliases_and_event_ids) {
  BOOST_TEST(is_valid_room_alias("#room:example.org"));
  BOOST_TEST(is_valid_room_alias("#r\xc3\xa9 !:example.org"));
  BOOST_TEST(!is_valid_room_alias("#room"));
  BOOST_TEST(!is_valid_room_alias("room:example.org"));
  BOOST_TEST(is_valid_event_id("$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg"));
  BOOST_TEST(is_reference_hash_event_id("$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg"));
  BOOST_TEST(is_valid_event_id("$old:example.org"));
  BOOST_TEST(!is_reference_hash_event_id("$old:example.org"));
  BOOST_TEST(!is_valid_event_id("$"));
  BOOST_TEST(!is_valid_event_id("Rqnc"));
  BOOST_TEST(!is_valid_event_id("$" + std::string(255, 'a')));
}

BOOST_AUTO_TEST_CASE(server_name_and_localpart_split_at_the_first_colon) {
  BOOST_TEST(server_name_of("@alice:example.org:8448") == "example.org:8448");
  BOOST_TEST(localpart_of("@alice:example.org") == "alice");
  BOOST_TEST(server_name_of("!Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYQ") == "");
  BOOST_TEST(localpart_of("@alice") == "");
}

BOOST_AUTO_TEST_CASE(utf8_validation_rejects_surrogates_and_overlongs) {
  BOOST_TEST(is_valid_utf8("plain \xe2\x82\xac \xf0\x9f\x98\x80"));
  BOOST_TEST(!is_valid_utf8("\xed\xa0\x80"));      // U+D800
  BOOST_TEST(!is_valid_utf8("\xc0\xaf"));          // overlong '/'
  BOOST_TEST(!is_valid_utf8("\xe0\x80\xaf"));      // overlong 3-byte
  BOOST_TEST(!is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  BOOST_TEST(!is_valid_utf8("\xe2\x82"));          // truncated
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::rooms
