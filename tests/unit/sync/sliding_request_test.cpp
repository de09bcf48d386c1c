// Sliding sync requests: both body shapes (the MSC's and the deployed clients'), required_state
// matching with wildcards, $ME and $LAZY, combining room configs, and the refusals.
#include "homeserver/sync/sliding_request.h"

#include <boost/test/unit_test.hpp>

#include "homeserver/base/json.h"

namespace haven::sync {
namespace {

Result<SlidingRequest> parse(std::string_view text) {
  auto doc = json::parse_object(text);
  BOOST_REQUIRE(doc.ok());
  return parse_sliding_request(doc.value());
}

std::string errcode_of(std::string_view text) {
  auto r = parse(text);
  return r.ok() ? "ok" : r.error().errcode;
}

RequiredState required_state_of(std::string_view rs_json) {
  auto r = parse(std::string(R"({"room_subscriptions":{"!r:x":{"timeline_limit":1,)") +
                 R"("required_state":)" + std::string(rs_json) + "}}}");
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().message));
  return r->room_subscriptions.at("!r:x").required_state.at(0);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sliding_request)

BOOST_AUTO_TEST_CASE(deployed_client_shape_parses) {
  auto r = parse(R"({"conn_id":"room-list","lists":{"all":{"ranges":[[0,19],[40,49]],
    "timeline_limit":1,"required_state":[["m.room.name",""]],"filters":{"is_dm":true,
    "not_room_types":["m.space",null]}}},"unsubscribe_rooms":["!a:x"],
    "extensions":{"to_device":{"enabled":true,"since":"42","limit":5000},
                  "e2ee":{"enabled":true},"typing":{"enabled":true,"lists":["all"]}}})");
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->conn_id == "room-list");
  const ListConfig& list = r->lists.at("all");
  BOOST_REQUIRE(list.ranges.has_value());
  BOOST_TEST(list.ranges->size() == 2u);
  BOOST_TEST((*list.ranges)[1].second == 49u);
  BOOST_TEST(list.room.timeline_limit == 1);
  BOOST_TEST(*list.filters.is_dm);
  BOOST_REQUIRE(list.filters.not_room_types.has_value());
  BOOST_TEST(!(*list.filters.not_room_types)[1].has_value());
  BOOST_TEST(r->unsubscribe_rooms.size() == 1u);
  BOOST_TEST(r->to_device.enabled);
  BOOST_TEST(*r->to_device.since == 42u);
  BOOST_TEST(r->to_device.limit == kMaxToDeviceLimit);
  BOOST_TEST(r->e2ee.enabled);
  BOOST_TEST(!r->receipts.enabled);
  BOOST_TEST(r->typing.covers_list("all"));
  BOOST_TEST(!r->typing.covers_list("other"));
}

BOOST_AUTO_TEST_CASE(msc_shape_parses) {
  auto r = parse(R"({"pos":"p","timeout":3000,"set_presence":"offline","lists":{"l":{
    "range":[0,9],"timeline_limit":500,"required_state":{"include":[{}],
    "exclude":[{"type":"m.room.create"}],"lazy_members":true},"filters":{"is_invited":false}}}})");
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(*r->pos == "p");
  BOOST_TEST(r->timeout_ms == 3000);
  BOOST_TEST(r->set_presence == "offline");
  const ListConfig& list = r->lists.at("l");
  BOOST_TEST(list.ranges->at(0).second == 9u);
  BOOST_TEST(list.room.timeline_limit == kMaxSlidingTimelineLimit);
  BOOST_TEST(!*list.filters.is_invite);
  BOOST_TEST(list.room.lazy_members());
}

BOOST_AUTO_TEST_CASE(a_list_without_ranges_is_the_whole_list) {
  auto r = parse(R"({"lists":{"l":{"timeline_limit":1,"required_state":[]}}})");
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(!r->lists.at("l").ranges.has_value());
  auto empty = parse(R"({"lists":{"l":{"ranges":[],"timeline_limit":1,"required_state":[]}}})");
  BOOST_REQUIRE(empty.ok());
  BOOST_TEST(empty->lists.at("l").ranges->empty());
}

BOOST_AUTO_TEST_CASE(wildcards_me_and_lazy) {
  auto rs = required_state_of(R"([["*","*"],["m.room.member","$LAZY"],["m.room.member","$ME"]])");
  BOOST_TEST(rs.lazy_members);
  BOOST_TEST(rs.matches("m.room.topic", "", "@me:x"));
  BOOST_TEST(rs.matches("m.room.member", "@me:x", "@me:x"));
  BOOST_TEST(!rs.matches("m.room.member", "@other:x", "@me:x"));
  auto all_members = required_state_of(R"([["m.room.member","*"]])");
  BOOST_TEST(all_members.matches("m.room.member", "@other:x", "@me:x"));
  BOOST_TEST(!all_members.matches("m.room.name", "", "@me:x"));
  auto key_only = required_state_of(R"({"include":[{"state_key":""}]})");
  BOOST_TEST(key_only.matches("m.room.name", "", "@me:x"));
  BOOST_TEST(!key_only.matches("m.room.member", "@me:x", "@me:x"));
}

BOOST_AUTO_TEST_CASE(exclude_wins_over_include) {
  auto rs = required_state_of(R"({"include":[{}],"exclude":[{"type":"m.room.create"}]})");
  BOOST_TEST(!rs.matches("m.room.create", "", "@me:x"));
  BOOST_TEST(rs.matches("m.room.member", "@a:x", "@me:x"));
}

BOOST_AUTO_TEST_CASE(combined_configs_are_the_superset) {
  RoomConfig a, b;
  a.timeline_limit = 1;
  a.required_state.push_back(required_state_of(R"([["m.room.name",""]])"));
  b.timeline_limit = 10;
  b.required_state.push_back(required_state_of(R"([["m.room.topic",""]])"));
  RoomConfig c = a;
  c.combine(b);
  c.combine(a);  // combining again changes nothing
  BOOST_TEST(c.timeline_limit == 10);
  BOOST_TEST(c.required_state.size() == 2u);
  BOOST_TEST(c.matches("m.room.name", "", "@me:x"));
  BOOST_TEST(c.matches("m.room.topic", "", "@me:x"));
  BOOST_TEST(!c.matches("m.room.avatar", "", "@me:x"));
  RoomConfig d = b;
  d.combine(a);
  BOOST_TEST((c == d));  // the order of combining does not matter
}

BOOST_AUTO_TEST_CASE(refusals) {
  BOOST_TEST(errcode_of(R"({"lists":[]})") == "M_BAD_JSON");
  BOOST_TEST(errcode_of(R"({"lists":{"l":{"ranges":[[0,1]],"required_state":[]}}})") ==
             "M_MISSING_PARAM");
  BOOST_TEST(errcode_of(R"({"lists":{"l":{"ranges":[[0,1]],"timeline_limit":1}}})") ==
             "M_MISSING_PARAM");
  BOOST_TEST(errcode_of(R"({"lists":{"l":{"ranges":[[3,1]],"timeline_limit":1,
    "required_state":[]}}})") == "M_INVALID_PARAM");
  BOOST_TEST(errcode_of(R"({"lists":{"l":{"ranges":[[0,1.5]],"timeline_limit":1,
    "required_state":[]}}})") == "M_BAD_JSON");
  BOOST_TEST(errcode_of(R"({"lists":{"l":{"timeline_limit":1,"required_state":[["a"]]}}})") ==
             "M_BAD_JSON");
  BOOST_TEST(errcode_of(R"({"lists":{"l":{"timeline_limit":1,"required_state":[[1,""]]}}})") ==
             "M_BAD_JSON");
  BOOST_TEST(errcode_of(R"({"lists":{"l":{"timeline_limit":1,
    "required_state":{"include":[5]}}}})") == "M_BAD_JSON");
  BOOST_TEST(errcode_of(R"({"room_subscriptions":{"nope":{"timeline_limit":1,
    "required_state":[]}}})") == "M_INVALID_PARAM");
  BOOST_TEST(errcode_of(R"({"extensions":{"to_device":{"enabled":true,"since":"12x"}}})") ==
             "M_INVALID_PARAM");
  BOOST_TEST(errcode_of(R"({"extensions":{"to_device":{"enabled":true,"limit":0}}})") ==
             "M_INVALID_PARAM");
  BOOST_TEST(errcode_of(R"({"set_presence":"busy"})") == "M_INVALID_PARAM");
  BOOST_TEST(errcode_of(R"({"timeout":-1})") == "M_INVALID_PARAM");
  BOOST_TEST(errcode_of(R"({"extensions":{"unknown":{"enabled":"whatever"}}})") == "ok");
  std::string many = R"({"lists":{)";
  for (int i = 0; i <= 100; ++i) {
    many += (i ? "," : "") + std::string("\"l") + std::to_string(i) +
            R"(":{"timeline_limit":1,"required_state":[]})";
  }
  BOOST_TEST(errcode_of(many + "}}") == "M_INVALID_PARAM");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::sync
