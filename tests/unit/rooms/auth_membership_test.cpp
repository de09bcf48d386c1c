// The m.room.member rules of check_auth (homeserver/rooms/auth_membership.cpp).
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <boost/test/unit_test.hpp>

#include "crypto/base64.h"
#include "crypto/json_signing.h"
#include "homeserver/rooms/auth_rules.h"
#include "tests/unit/rooms/test_room.h"

namespace haven::rooms {

using test::EventSpec;
using test::message_of;
using test::TestRoom;

namespace {

const std::string kAlice = "@alice:a.org";  // creator
const std::string kBob = "@bob:b.org";
const std::string kCarol = "@carol:a.org";
const std::string kDave = "@dave:d.org";

EventSpec member_spec(const std::string& sender, const std::string& target,
                      const std::string& membership, const std::string& extra = "") {
  return EventSpec(
      sender, "m.room.member", target,
      R"({"membership":")" + membership + "\"" + (extra.empty() ? "" : ",") + extra + "}");
}

bool allowed(const TestRoom& room, const EventSpec& spec) {
  Status s = room.check(room.make(spec));
  BOOST_TEST_MESSAGE(*spec.state_key << " " << spec.content << ": " << message_of(s));
  return s.ok();
}

bool allowed(const TestRoom& room, const std::string& sender, const std::string& target,
             const std::string& membership, const std::string& extra = "") {
  return allowed(room, member_spec(sender, target, membership, extra));
}

// alice created and joined, with the given join rule; carol joined when the rule allows.
TestRoom room_with_rule(const RoomVersion& v, const std::string& rule) {
  TestRoom room(v, kAlice);
  room.join(kAlice);
  room.state(kAlice, "m.room.join_rules", R"({"join_rule":")" + rule + "\"}");
  return room;
}

// A room where alice (100), mod carol (50) and dave (0) are joined.
TestRoom moderated_room(const RoomVersion& v) {
  TestRoom room = room_with_rule(v, "public");
  room.join(kCarol);
  room.join(kDave);
  std::string users = v.creators_privileged ? R"({"@carol:a.org":50})"
                                            : R"({"@alice:a.org":100,"@carol:a.org":50})";
  room.power_levels(R"({"users":)" + users + "}");
  return room;
}

std::string to_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return buf.GetString();
}

const crypto::SigningKey& identity_key() {
  static const crypto::SigningKey key =
      *crypto::SigningKey::from_seed(std::string(32, '\x09'), "0");
  return key;
}

// content.third_party_invite for `mxid` and `token`, signed by the identity server's key.
std::string third_party_invite(const std::string& mxid, const std::string& token,
                               const crypto::SigningKey& key = identity_key()) {
  rapidjson::Document signed_obj =
      test::parse(R"({"mxid":")" + mxid + R"(","token":")" + token + R"(","sender":"x"})");
  BOOST_REQUIRE(crypto::sign_json(signed_obj, signed_obj.GetAllocator(), "id.org", key));
  return R"("third_party_invite":{"display_name":"b***@e.org","signed":)" + to_json(signed_obj) +
         "}";
}

std::string invite_keys_content(bool as_list) {
  std::string key = crypto::base64_encode(identity_key().public_key());
  if (as_list) return R"({"display_name":"b","public_keys":[{"public_key":")" + key + "\"}]}";
  return R"({"display_name":"b","public_key":")" + key + "\"}";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(auth_membership)

BOOST_AUTO_TEST_CASE(creator_joins_right_after_create) {
  for (const RoomVersion* v : {&test::v10(), &test::v11(), &test::v12()}) {
    TestRoom room(*v, kAlice);
    BOOST_TEST(allowed(room, kAlice, kAlice, "join"));
    BOOST_TEST(!allowed(room, kCarol, kCarol, "join"));  // no join rule yet: invite
  }
}

BOOST_AUTO_TEST_CASE(creator_join_shortcut_needs_create_as_only_prev_event) {
  TestRoom room(test::v11(), kAlice);
  EventSpec spec = member_spec(kAlice, kAlice, "join");
  spec.prev_events = std::vector<std::string>{room.create->event_id(), "$other"};
  BOOST_TEST(!allowed(room, spec));
}

BOOST_AUTO_TEST_CASE(v10_creator_join_follows_content_creator) {
  TestRoom room(test::v10(), kAlice, R"({"creator":"@carol:a.org"})");
  BOOST_TEST(!allowed(room, kAlice, kAlice, "join"));
  BOOST_TEST(allowed(room, kCarol, kCarol, "join"));
}

BOOST_AUTO_TEST_CASE(v12_additional_creators_do_not_get_the_first_join) {
  TestRoom room(test::v12(), kAlice, R"({"additional_creators":["@bob:b.org"]})");
  BOOST_TEST(!allowed(room, kBob, kBob, "join"));
  BOOST_TEST(allowed(room, kAlice, kAlice, "join"));
}

BOOST_AUTO_TEST_CASE(member_events_need_membership_and_state_key) {
  TestRoom room = room_with_rule(test::v11(), "public");
  BOOST_TEST(!allowed(room, EventSpec(kCarol, "m.room.member", kCarol, "{}")));
  BOOST_TEST(
      !allowed(room, EventSpec(kCarol, "m.room.member", std::nullopt, R"({"membership":"join"})")));
  BOOST_TEST(!allowed(room, kCarol, kCarol, "dance"));
}

BOOST_AUTO_TEST_CASE(cannot_join_for_someone_else) {
  TestRoom room = room_with_rule(test::v11(), "public");
  BOOST_TEST(!allowed(room, kAlice, kCarol, "join"));
  BOOST_TEST(allowed(room, kCarol, kCarol, "join"));
}

BOOST_AUTO_TEST_CASE(public_rooms_admit_anyone_not_banned) {
  TestRoom room = room_with_rule(test::v11(), "public");
  BOOST_TEST(allowed(room, kBob, kBob, "join"));
  room.member(kAlice, kBob, "ban");
  BOOST_TEST(!allowed(room, kBob, kBob, "join"));
}

BOOST_AUTO_TEST_CASE(invite_only_rooms_admit_invited_and_joined_users) {
  TestRoom room = room_with_rule(test::v11(), "invite");
  BOOST_TEST(!allowed(room, kBob, kBob, "join"));
  room.member(kAlice, kBob, "invite");
  BOOST_TEST(allowed(room, kBob, kBob, "join"));
  room.join(kBob);
  BOOST_TEST(allowed(room, kBob, kBob, "join", R"("displayname":"Bob")"));
}

BOOST_AUTO_TEST_CASE(knock_rooms_admit_invited_users_only) {
  TestRoom room = room_with_rule(test::v11(), "knock");
  BOOST_TEST(!allowed(room, kBob, kBob, "join"));
  room.member(kAlice, kBob, "invite");
  BOOST_TEST(allowed(room, kBob, kBob, "join"));
}

BOOST_AUTO_TEST_CASE(private_and_unknown_join_rules_admit_nobody_new) {
  for (const std::string rule : {"private", "secret"}) {
    TestRoom room = room_with_rule(test::v11(), rule);
    BOOST_TEST(!allowed(room, kBob, kBob, "join"));
  }
}

BOOST_AUTO_TEST_CASE(restricted_join_needs_a_joined_authoriser_who_may_invite) {
  for (const std::string rule : {"restricted", "knock_restricted"}) {
    TestRoom room = room_with_rule(test::v11(), rule);
    std::string via = R"("join_authorised_via_users_server":"@alice:a.org")";
    EventSpec authorised = member_spec(kBob, kBob, "join", via);
    authorised.signers = std::vector<std::string>{"b.org", "a.org"};
    BOOST_TEST(allowed(room, authorised));
    BOOST_TEST(!allowed(room, kBob, kBob, "join"));  // no authoriser

    EventSpec by_outsider =
        member_spec(kBob, kBob, "join", R"("join_authorised_via_users_server":"@carol:a.org")");
    by_outsider.signers = authorised.signers;
    BOOST_TEST(!allowed(room, by_outsider));  // carol is not joined

    room.member(kAlice, kCarol, "invite");
    room.join(kCarol);
    room.power_levels(R"({"users":{"@alice:a.org":100},"invite":10})");
    BOOST_TEST(!allowed(room, by_outsider));  // carol is below the invite level
  }
}

BOOST_AUTO_TEST_CASE(restricted_join_must_be_signed_by_the_authorising_server) {
  TestRoom room = room_with_rule(test::v11(), "restricted");
  EventSpec spec =
      member_spec(kBob, kBob, "join", R"("join_authorised_via_users_server":"@alice:a.org")");
  BOOST_TEST(!allowed(room, spec));  // only b.org signed
  spec.content = R"({"membership":"join","join_authorised_via_users_server":5})";
  spec.signers = std::vector<std::string>{"b.org", "a.org"};
  BOOST_TEST(!allowed(room, spec));
}

BOOST_AUTO_TEST_CASE(invited_users_join_restricted_rooms_without_authoriser) {
  TestRoom room = room_with_rule(test::v11(), "restricted");
  room.member(kAlice, kBob, "invite");
  BOOST_TEST(allowed(room, kBob, kBob, "join"));
}

BOOST_AUTO_TEST_CASE(invites_need_a_joined_sender_with_invite_power) {
  TestRoom room = room_with_rule(test::v11(), "invite");
  BOOST_TEST(allowed(room, kAlice, kBob, "invite"));
  BOOST_TEST(!allowed(room, kCarol, kBob, "invite"));  // carol is not in the room
  room.member(kAlice, kCarol, "invite");
  room.join(kCarol);
  BOOST_TEST(allowed(room, kCarol, kBob, "invite"));  // invite level defaults to 0
  room.power_levels(R"({"users":{"@alice:a.org":100},"invite":50})");
  BOOST_TEST(!allowed(room, kCarol, kBob, "invite"));
  BOOST_TEST(allowed(room, kAlice, kBob, "invite"));
}

BOOST_AUTO_TEST_CASE(cannot_invite_joined_or_banned_users) {
  TestRoom room = room_with_rule(test::v11(), "public");
  room.join(kCarol);
  BOOST_TEST(!allowed(room, kAlice, kCarol, "invite"));
  room.member(kAlice, kBob, "ban");
  BOOST_TEST(!allowed(room, kAlice, kBob, "invite"));
}

BOOST_AUTO_TEST_CASE(third_party_invite_signed_by_the_invite_key_is_allowed) {
  for (bool as_list : {false, true}) {
    TestRoom room = room_with_rule(test::v11(), "invite");
    room.state(kAlice, "m.room.third_party_invite", invite_keys_content(as_list), "tok");
    EventSpec spec = member_spec(kAlice, kBob, "invite", third_party_invite(kBob, "tok"));
    spec.signers = std::vector<std::string>{"other.org"};  // any server may send it
    BOOST_TEST(allowed(room, spec));
  }
}

BOOST_AUTO_TEST_CASE(third_party_invite_failures_are_rejected) {
  TestRoom room = room_with_rule(test::v11(), "invite");
  room.state(kAlice, "m.room.third_party_invite", invite_keys_content(false), "tok");
  BOOST_TEST(!allowed(room, kAlice, kBob, "invite", third_party_invite(kCarol, "tok")));
  BOOST_TEST(!allowed(room, kAlice, kBob, "invite", third_party_invite(kBob, "other")));
  auto stranger = *crypto::SigningKey::from_seed(std::string(32, '\x0a'), "0");
  BOOST_TEST(!allowed(room, kAlice, kBob, "invite", third_party_invite(kBob, "tok", stranger)));
  BOOST_TEST(
      !allowed(room, kAlice, kBob, "invite", R"("third_party_invite":{"display_name":"b"})"));
  BOOST_TEST(!allowed(room, kAlice, kBob, "invite",
                      R"("third_party_invite":{"signed":{"mxid":"@bob:b.org"}})"));
  room.member(kAlice, kCarol, "invite");
  room.join(kCarol);
  BOOST_TEST(!allowed(room, kCarol, kBob, "invite", third_party_invite(kBob, "tok")));
  room.member(kAlice, kBob, "ban");
  BOOST_TEST(!allowed(room, kAlice, kBob, "invite", third_party_invite(kBob, "tok")));
}

BOOST_AUTO_TEST_CASE(users_may_leave_when_joined_invited_or_knocking) {
  TestRoom room = room_with_rule(test::v11(), "knock");
  BOOST_TEST(!allowed(room, kBob, kBob, "leave"));  // never was a member
  room.member(kBob, kBob, "knock");
  BOOST_TEST(allowed(room, kBob, kBob, "leave"));
  room.member(kAlice, kBob, "invite");
  BOOST_TEST(allowed(room, kBob, kBob, "leave"));
  room.join(kBob);
  BOOST_TEST(allowed(room, kBob, kBob, "leave"));
  room.member(kBob, kBob, "leave");
  BOOST_TEST(!allowed(room, kBob, kBob, "leave"));
}

BOOST_AUTO_TEST_CASE(banned_users_cannot_unban_themselves) {
  TestRoom room = room_with_rule(test::v11(), "public");
  room.join(kBob);
  room.member(kAlice, kBob, "ban");
  BOOST_TEST(!allowed(room, kBob, kBob, "leave"));
}

BOOST_AUTO_TEST_CASE(kicks_need_kick_level_and_a_lower_target) {
  TestRoom room = moderated_room(test::v11());
  BOOST_TEST(allowed(room, kCarol, kDave, "leave"));    // 50 kicks 0
  BOOST_TEST(!allowed(room, kCarol, kAlice, "leave"));  // 50 cannot kick 100
  BOOST_TEST(!allowed(room, kDave, kCarol, "leave"));   // 0 is below the kick level
  room.power_levels(R"({"users":{"@alice:a.org":100,"@carol:a.org":50,"@dave:d.org":50}})");
  BOOST_TEST(!allowed(room, kCarol, kDave, "leave"));  // equal levels
  BOOST_TEST(!allowed(room, kBob, kDave, "leave"));    // bob is not in the room
}

BOOST_AUTO_TEST_CASE(unban_needs_the_ban_level) {
  TestRoom room = moderated_room(test::v11());
  room.member(kAlice, kBob, "ban");
  room.power_levels(R"({"users":{"@alice:a.org":100,"@carol:a.org":50},"ban":60})");
  BOOST_TEST(!allowed(room, kCarol, kBob, "leave"));  // kick level yes, ban level no
  BOOST_TEST(allowed(room, kAlice, kBob, "leave"));
}

BOOST_AUTO_TEST_CASE(bans_need_ban_level_and_a_lower_target) {
  TestRoom room = moderated_room(test::v11());
  BOOST_TEST(allowed(room, kCarol, kBob, "ban"));  // banning a non-member is fine
  BOOST_TEST(allowed(room, kCarol, kDave, "ban"));
  BOOST_TEST(!allowed(room, kCarol, kAlice, "ban"));
  BOOST_TEST(!allowed(room, kDave, kBob, "ban"));
  room.member(kCarol, kCarol, "leave");
  BOOST_TEST(!allowed(room, kCarol, kBob, "ban"));  // no longer joined
}

BOOST_AUTO_TEST_CASE(knocks_need_a_knock_join_rule) {
  BOOST_TEST(!allowed(room_with_rule(test::v11(), "invite"), kBob, kBob, "knock"));
  BOOST_TEST(!allowed(room_with_rule(test::v11(), "public"), kBob, kBob, "knock"));
  BOOST_TEST(allowed(room_with_rule(test::v11(), "knock"), kBob, kBob, "knock"));
  BOOST_TEST(allowed(room_with_rule(test::v10(), "knock_restricted"), kBob, kBob, "knock"));
}

BOOST_AUTO_TEST_CASE(knocks_are_for_oneself_and_outsiders_only) {
  TestRoom room = room_with_rule(test::v11(), "knock");
  BOOST_TEST(!allowed(room, kAlice, kBob, "knock"));
  BOOST_TEST(!allowed(room, kAlice, kAlice, "knock"));  // already joined
  room.member(kAlice, kBob, "invite");
  BOOST_TEST(!allowed(room, kBob, kBob, "knock"));
  room.member(kAlice, kCarol, "ban");
  BOOST_TEST(!allowed(room, kCarol, kCarol, "knock"));
}

BOOST_AUTO_TEST_CASE(v12_creators_cannot_be_kicked_or_banned) {
  TestRoom room(test::v12(), kAlice, R"({"additional_creators":["@bob:b.org"]})");
  room.join(kAlice);
  room.state(kAlice, "m.room.join_rules", R"({"join_rule":"public"})");
  room.join(kBob);
  room.join(kCarol);
  room.power_levels(R"({"users":{"@carol:a.org":99}})");
  BOOST_TEST(!allowed(room, kCarol, kAlice, "ban"));
  BOOST_TEST(!allowed(room, kBob, kAlice, "ban"));  // creators are equal
  BOOST_TEST(allowed(room, kBob, kCarol, "ban"));
  BOOST_TEST(allowed(room, kAlice, kCarol, "leave"));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::rooms
