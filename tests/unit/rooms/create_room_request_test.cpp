// parse_create_room_request (homeserver/rooms/create_room_request.cpp).
#include <boost/test/unit_test.hpp>

#include "homeserver/rooms/create_room.h"
#include "tests/unit/rooms/test_room.h"

namespace haven::rooms {

using test::parse;

namespace {

std::string errcode(const std::string& body) {
  auto r = parse_create_room_request(parse(body));
  return r.ok() ? "ok" : r.error().errcode;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(create_room_request)

BOOST_AUTO_TEST_CASE(parses_every_field) {
  auto r = parse_create_room_request(parse(R"({
    "visibility": "public", "room_alias_name": "pub", "name": "N", "topic": "T",
    "invite": ["@bob:b.org", "@bob:b.org", "@c:c.org"], "invite_3pid": [],
    "room_version": "11", "creation_content": {"m.federate": false},
    "initial_state": [{"type": "m.room.avatar", "content": {"url": "mxc://a/b"}}],
    "preset": "trusted_private_chat", "is_direct": true,
    "power_level_content_override": {"ban": 10}})"));
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->visibility_public);
  BOOST_TEST(*r->room_alias_name == "pub");
  BOOST_TEST(*r->name == "N");
  BOOST_TEST(*r->topic == "T");
  BOOST_TEST((r->invite == std::vector<std::string>{"@bob:b.org", "@c:c.org"}));
  BOOST_TEST(*r->room_version == "11");
  BOOST_TEST(r->creation_content["m.federate"].IsFalse());
  BOOST_REQUIRE(r->initial_state.size() == 1u);
  BOOST_TEST(r->initial_state[0].type == "m.room.avatar");
  BOOST_TEST(r->initial_state[0].state_key == "");
  BOOST_TEST((r->preset == RoomPreset::kTrustedPrivateChat));
  BOOST_TEST(r->is_direct);
  BOOST_TEST(r->power_level_content_override["ban"].GetInt() == 10);
}

BOOST_AUTO_TEST_CASE(an_empty_body_gives_a_private_chat_on_the_default_version) {
  auto r = parse_create_room_request(parse("{}"));
  BOOST_REQUIRE(r.ok());
  BOOST_TEST((r->preset == RoomPreset::kPrivateChat));
  BOOST_TEST(!r->room_version);
  BOOST_TEST(!r->visibility_public);
  BOOST_TEST(r->invite.empty());
}

BOOST_AUTO_TEST_CASE(nulls_count_as_absent) {
  BOOST_TEST(errcode(R"({"name":null,"topic":null,"invite":null,"preset":null})") == "ok");
}

BOOST_AUTO_TEST_CASE(wrong_types_are_bad_json) {
  for (const char* body :
       {R"([])", R"({"name":5})", R"({"invite":"@bob:b.org"})", R"({"invite":[5]})",
        R"({"creation_content":[]})", R"({"initial_state":{}})",
        R"({"initial_state":[{"content":{}}]})", R"({"initial_state":[{"type":"x"}]})",
        R"({"initial_state":[{"type":"x","state_key":1,"content":{}}]})", R"({"is_direct":1})",
        R"({"power_level_content_override":5})", R"({"room_version":10})",
        R"({"power_level_content_override":{"ban":"50"}})"}) {
    BOOST_TEST(errcode(body) == "M_BAD_JSON", body);
  }
}

BOOST_AUTO_TEST_CASE(bad_values_are_invalid_params) {
  for (const char* body :
       {R"({"preset":"party"})", R"({"visibility":"secret"})", R"({"invite":["bob"]})",
        R"({"room_alias_name":"a:b"})", R"({"room_alias_name":"a b"})",
        R"({"room_alias_name":"a\tb"})", R"({"room_alias_name":""})",
        R"({"creation_content":{"additional_creators":["nope"]}})"}) {
    BOOST_TEST(errcode(body) == "M_INVALID_PARAM", body);
  }
}

BOOST_AUTO_TEST_CASE(unknown_room_versions_are_unsupported) {
  auto r = parse_create_room_request(parse(R"({"room_version":"9"})"));
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().errcode == "M_UNSUPPORTED_ROOM_VERSION");
  BOOST_TEST(r.error().status == 400);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::rooms
