#include "appservices/care/call_rules.h"

#include <boost/test/unit_test.hpp>

using namespace haven::care;

namespace {

const std::string kRoom = "!r:hs";
const std::string kOwner = "@owner:hs";

RtcMembership joined(const std::string& user, const std::string& device, int64_t ts,
                     int64_t expires_ms = 1'000'000'000) {
  std::string key = "_" + user + "_" + device;
  return RtcMembership{kRoom, key, user, ts, {RtcDevice{key, "", expires_ms}}};
}

RtcMembership left(const std::string& user, const std::string& device, int64_t ts) {
  return RtcMembership{kRoom, "_" + user + "_" + device, user, ts, {}};
}

VoipSignal voip(VoipAction action, const std::string& sender, int64_t ts) {
  return VoipSignal{kRoom, "call1", sender, action, ts, action == VoipAction::kInvite ? 60000 : 0};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(call_rules)

BOOST_AUTO_TEST_CASE(rtc_call_runs_from_first_join_to_last_leave) {
  RoomCalls room;
  apply_membership(room, joined("@a:hs", "A", 1000), kOwner);
  BOOST_TEST(room.running());
  apply_membership(room, joined("@b:hs", "B", 2000), kOwner);
  apply_membership(room, left("@a:hs", "A", 3000), kOwner);
  BOOST_TEST(room.running());
  BOOST_TEST(room.ended.empty());
  apply_membership(room, left("@b:hs", "B", 125000), kOwner);
  BOOST_TEST(!room.running());
  BOOST_REQUIRE_EQUAL(room.ended.size(), 1u);
  const auto& e = room.ended[0];
  BOOST_TEST(e.started_ms == 1000);
  BOOST_TEST(e.ended_ms == 125000);
  BOOST_TEST(e.minutes == 3);
  BOOST_TEST(e.owner == kOwner);
  BOOST_TEST(e.end_reason == "left");
  BOOST_TEST(e.participants == (std::vector<std::string>{"@a:hs", "@b:hs"}));
}

BOOST_AUTO_TEST_CASE(resent_membership_does_not_restart_the_call) {
  RoomCalls room;
  apply_membership(room, joined("@a:hs", "A", 1000), kOwner);
  apply_membership(room, joined("@a:hs", "A", 50000), kOwner);  // refreshed expiry
  BOOST_REQUIRE_EQUAL(room.calls.size(), 1u);
  BOOST_TEST(room.calls[0].started_ms == 1000);
  BOOST_TEST(room.calls[0].slots.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_leave_of_an_unknown_device_changes_nothing) {
  RoomCalls room;
  apply_membership(room, left("@a:hs", "A", 1000), kOwner);
  BOOST_TEST(room.calls.empty());
  BOOST_TEST(room.ended.empty());
}

BOOST_AUTO_TEST_CASE(lapsed_membership_ends_the_call_when_it_lapsed) {
  RoomCalls room;
  apply_membership(room, joined("@a:hs", "A", 1000, 61000), kOwner);
  apply_expiry(room, 60000);
  BOOST_TEST(room.running());
  apply_expiry(room, 500000);
  BOOST_REQUIRE_EQUAL(room.ended.size(), 1u);
  BOOST_TEST(room.ended[0].ended_ms == 61000);
  BOOST_TEST(room.ended[0].minutes == 1);
  BOOST_TEST(room.ended[0].end_reason == "expired");
}

BOOST_AUTO_TEST_CASE(room_leave_takes_the_user_out_of_calls) {
  RoomCalls room;
  apply_membership(room, joined("@a:hs", "A", 1000), kOwner);
  apply_leave(room, RoomLeave{kRoom, "@a:hs", 9000});
  BOOST_REQUIRE_EQUAL(room.ended.size(), 1u);
  BOOST_TEST(room.ended[0].end_reason == "left_room");
}

BOOST_AUTO_TEST_CASE(legacy_call_runs_from_answer_to_hangup) {
  RoomCalls room;
  apply_voip(room, voip(VoipAction::kInvite, "@a:hs", 1000), kOwner);
  BOOST_TEST(!room.running());  // ringing
  apply_voip(room, voip(VoipAction::kAnswer, "@b:hs", 5000), kOwner);
  BOOST_TEST(room.running());
  apply_voip(room, voip(VoipAction::kHangup, "@a:hs", 65000), kOwner);
  BOOST_REQUIRE_EQUAL(room.ended.size(), 1u);
  BOOST_TEST(room.ended[0].started_ms == 5000);
  BOOST_TEST(room.ended[0].minutes == 1);
  BOOST_TEST((room.ended[0].kind == CallKind::kLegacy));
  BOOST_TEST(room.ended[0].participants == (std::vector<std::string>{"@a:hs", "@b:hs"}));
  BOOST_TEST(room.calls.empty());
}

BOOST_AUTO_TEST_CASE(unanswered_invite_is_not_a_call) {
  RoomCalls room;
  apply_voip(room, voip(VoipAction::kInvite, "@a:hs", 1000), kOwner);
  apply_voip(room, voip(VoipAction::kReject, "@b:hs", 2000), kOwner);
  BOOST_TEST(room.ended.empty());
  BOOST_TEST(room.calls.empty());
  apply_voip(room, voip(VoipAction::kInvite, "@a:hs", 3000), kOwner);
  apply_expiry(room, 3000 + 60000);
  BOOST_TEST(room.ended.empty());
  BOOST_TEST(room.calls.empty());
}

BOOST_AUTO_TEST_CASE(legacy_call_without_hangup_ends_at_the_cap) {
  RoomCalls room;
  apply_voip(room, voip(VoipAction::kAnswer, "@b:hs", 1000), kOwner);
  apply_expiry(room, 1000 + kMaxLegacyCallMs);
  BOOST_REQUIRE_EQUAL(room.ended.size(), 1u);
  BOOST_TEST(room.ended[0].end_reason == "timeout");
  BOOST_TEST(room.ended[0].ended_ms == 1000 + kMaxLegacyCallMs);
}

BOOST_AUTO_TEST_CASE(a_room_holds_a_bounded_number_of_calls) {
  RoomCalls room;
  for (int i = 0; i < 100; ++i) {
    apply_voip(room,
               VoipSignal{kRoom, "c" + std::to_string(i), "@a:hs", VoipAction::kAnswer, 1000, 0},
               kOwner);
  }
  BOOST_TEST(room.calls.size() == 20u);
}

BOOST_AUTO_TEST_SUITE_END()
