#include "appservices/care/call_events.h"

#include <boost/test/unit_test.hpp>

using namespace haven::care;

namespace {

constexpr int64_t kNow = 1'000'000'000'000;

haven::json::Document event(const std::string& text) { return haven::json::parse_trusted(text); }

}  // namespace

BOOST_AUTO_TEST_SUITE(call_events)

BOOST_AUTO_TEST_CASE(element_call_membership_is_one_device) {
  auto e = event(R"({"type":"org.matrix.msc3401.call.member","state_key":"_@a:hs_DEV",
    "sender":"@a:hs","room_id":"!r:hs","origin_server_ts":1000,
    "content":{"application":"m.call","call_id":"","scope":"m.room","device_id":"DEV",
    "focus_active":{"type":"livekit"},"foci_preferred":[],"expires":5000}})");
  auto m = parse_rtc_membership(e, kNow);
  BOOST_REQUIRE(m);
  BOOST_TEST(m->state_key == "_@a:hs_DEV");
  BOOST_TEST(m->ts == 1000);
  BOOST_REQUIRE_EQUAL(m->devices.size(), 1u);
  BOOST_TEST(m->devices[0].slot == "_@a:hs_DEV");
  BOOST_TEST(m->devices[0].call_id == "");
  BOOST_TEST(m->devices[0].expires_ms == 6000);
}

BOOST_AUTO_TEST_CASE(empty_content_means_the_device_left) {
  auto e = event(R"({"type":"m.call.member","state_key":"_@a:hs_DEV","sender":"@a:hs",
    "room_id":"!r:hs","origin_server_ts":1000,"content":{}})");
  auto m = parse_rtc_membership(e, kNow);
  BOOST_REQUIRE(m);
  BOOST_TEST(m->devices.empty());
}

BOOST_AUTO_TEST_CASE(memberships_array_gives_a_slot_per_device) {
  auto e = event(R"({"type":"org.matrix.msc3401.call.member","state_key":"@a:hs",
    "sender":"@a:hs","room_id":"!r:hs","origin_server_ts":1000,"content":{"memberships":[
      {"application":"m.call","call_id":"","device_id":"D1","expires":3600000},
      {"application":"m.call","call_id":"","device_id":"D2","expires_ts":9000},
      {"application":"m.game","call_id":"","device_id":"D3"},
      {"application":"m.call","call_id":"","device_id":"D4","expires_ts":500}]}})");
  auto m = parse_rtc_membership(e, kNow);
  BOOST_REQUIRE(m);
  BOOST_REQUIRE_EQUAL(m->devices.size(), 2u);  // not another application, not expired
  BOOST_TEST(m->devices[0].slot != m->devices[1].slot);
  BOOST_TEST(m->devices[0].expires_ms == 3601000);
  BOOST_TEST(m->devices[1].expires_ms == 9000);
}

BOOST_AUTO_TEST_CASE(membership_lifetime_has_a_default_and_a_cap) {
  auto plain = event(R"({"type":"m.call.member","state_key":"_@a:hs_D","sender":"@a:hs",
    "room_id":"!r:hs","origin_server_ts":1000,"content":{"application":"m.call","call_id":""}})");
  BOOST_TEST(parse_rtc_membership(plain, kNow)->devices[0].expires_ms ==
             1000 + kDefaultMembershipLifetimeMs);
  auto huge = event(R"({"type":"m.call.member","state_key":"_@a:hs_D","sender":"@a:hs",
    "room_id":"!r:hs","origin_server_ts":1000,
    "content":{"application":"m.call","call_id":"","expires":999999999999}})");
  BOOST_TEST(parse_rtc_membership(huge, kNow)->devices[0].expires_ms ==
             1000 + kMaxMembershipLifetimeMs);
}

BOOST_AUTO_TEST_CASE(unreadable_memberships_are_ignored) {
  for (const char* text :
       {R"({"type":"m.call.member","sender":"@a:hs","room_id":"!r:hs","content":{}})",
        R"({"type":"m.call.member","state_key":"k","sender":"@a:hs","room_id":"!r:hs",
            "content":"x"})",
        R"({"type":"m.room.message","state_key":"k","sender":"@a:hs","room_id":"!r:hs",
            "content":{}})",
        R"([1,2])"}) {
    BOOST_TEST(!parse_rtc_membership(event(text), kNow), text);
  }
  // A call_id that is not a string is not a call.
  auto e = event(R"({"type":"m.call.member","state_key":"_@a:hs_D","sender":"@a:hs",
    "room_id":"!r:hs","content":{"application":"m.call","call_id":5}})");
  BOOST_TEST(parse_rtc_membership(e, kNow)->devices.empty());
}

BOOST_AUTO_TEST_CASE(voip_events_are_read) {
  auto invite = parse_voip(event(R"({"type":"m.call.invite","sender":"@a:hs","room_id":"!r:hs",
    "origin_server_ts":5,"content":{"call_id":"c1","lifetime":30000,"version":"1"}})"),
                           kNow);
  BOOST_REQUIRE(invite);
  BOOST_TEST((invite->action == VoipAction::kInvite));
  BOOST_TEST(invite->lifetime_ms == 30000);
  BOOST_TEST(invite->ts == 5);
  auto answer = parse_voip(event(R"({"type":"m.call.answer","sender":"@b:hs","room_id":"!r:hs",
    "content":{"call_id":"c1"}})"),
                           kNow);
  BOOST_REQUIRE(answer);
  BOOST_TEST((answer->action == VoipAction::kAnswer));
  BOOST_TEST(answer->ts == kNow);  // no origin_server_ts: haven-care's time
  BOOST_TEST(!parse_voip(event(R"({"type":"m.call.hangup","sender":"@b:hs","room_id":"!r:hs",
    "content":{}})"),
                         kNow));
  BOOST_TEST(!parse_voip(event(R"({"type":"m.call.candidates","sender":"@b:hs",
    "room_id":"!r:hs","content":{"call_id":"c1"}})"),
                         kNow));
}

BOOST_AUTO_TEST_CASE(minutes_count_every_started_minute) {
  BOOST_TEST(call_minutes(0, 0) == 1);
  BOOST_TEST(call_minutes(0, 1) == 1);
  BOOST_TEST(call_minutes(0, 60000) == 1);
  BOOST_TEST(call_minutes(0, 60001) == 2);
  BOOST_TEST(call_minutes(1000, 601000) == 10);
  BOOST_TEST(call_minutes(5000, 1000) == 1);
}

BOOST_AUTO_TEST_SUITE_END()
