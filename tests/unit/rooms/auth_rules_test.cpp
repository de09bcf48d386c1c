#include "homeserver/rooms/auth_rules.h"

#include <boost/test/unit_test.hpp>

#include "tests/unit/rooms/test_room.h"

namespace haven::rooms {

using test::EventSpec;
using test::message_of;
using test::TestRoom;

namespace {

const std::string kAlice = "@alice:a.org";
const std::string kBob = "@bob:b.org";
const std::string kCarol = "@carol:a.org";

std::string outcome(const TestRoom& room, const EventSpec& spec) {
  return message_of(room.check(room.make(spec)));
}

bool allowed(const TestRoom& room, const EventSpec& spec) {
  Status s = room.check(room.make(spec));
  BOOST_TEST_MESSAGE(spec.type << ": " << message_of(s));
  return s.ok();
}

EventSpec create_spec(const std::string& sender, const std::string& content) {
  EventSpec spec(sender, "m.room.create", "", content);
  spec.prev_events = std::vector<std::string>{};
  return spec;
}

Status check_create(const TestRoom& room, const EventSpec& spec) {
  return check_auth(*room.make(spec), StateMap{}, room.version);
}

EventSpec message(const std::string& sender) {
  return EventSpec(sender, "m.room.message", std::nullopt, R"({"body":"hi"})");
}

// A room where alice (creator) and carol have joined and bob is invited, public join rule.
TestRoom public_room(const RoomVersion& v) {
  TestRoom room(v, kAlice);
  room.join(kAlice);
  room.state(kAlice, "m.room.join_rules", R"({"join_rule":"public"})");
  room.join(kCarol);
  return room;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(auth_rules)

BOOST_AUTO_TEST_CASE(create_with_prev_events_is_rejected) {
  TestRoom room(test::v11(), kAlice);
  EventSpec spec = create_spec(kAlice, "{}");
  spec.prev_events = std::vector<std::string>{room.create->event_id()};
  BOOST_TEST(!check_create(room, spec).ok());
  BOOST_TEST(check_create(room, create_spec(kAlice, "{}")).ok());
}

BOOST_AUTO_TEST_CASE(create_sender_must_be_on_the_room_id_server) {
  for (const RoomVersion* v : {&test::v10(), &test::v11()}) {
    TestRoom room(*v, kAlice);
    EventSpec spec = create_spec(kBob, R"({"creator":"@bob:b.org"})");
    Status s = check_create(room, spec);
    BOOST_TEST(!s.ok());
    BOOST_TEST(s.error().errcode == "M_FORBIDDEN");
    BOOST_TEST(s.error().status == 403);
  }
}

BOOST_AUTO_TEST_CASE(create_with_an_unknown_room_version_is_rejected) {
  TestRoom room(test::v11(), kAlice);
  BOOST_TEST(!check_create(room, create_spec(kAlice, R"({"room_version":"99"})")).ok());
  BOOST_TEST(!check_create(room, create_spec(kAlice, R"({"room_version":11})")).ok());
  BOOST_TEST(check_create(room, create_spec(kAlice, R"({"room_version":"11"})")).ok());
}

BOOST_AUTO_TEST_CASE(v10_create_needs_a_creator_v11_does_not) {
  TestRoom v10(test::v10(), kAlice);
  BOOST_TEST(!check_create(v10, create_spec(kAlice, "{}")).ok());
  BOOST_TEST(check_create(v10, create_spec(kAlice, R"({"creator":"@alice:a.org"})")).ok());
  TestRoom v11(test::v11(), kAlice);
  BOOST_TEST(check_create(v11, create_spec(kAlice, "{}")).ok());
}

BOOST_AUTO_TEST_CASE(v12_create_must_not_have_a_room_id) {
  TestRoom room(test::v12(), kAlice);
  EventSpec with_room = create_spec(kAlice, "{}");
  with_room.room_id = "!Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYQ";
  BOOST_TEST(!check_create(room, with_room).ok());
  EventSpec without = create_spec(kAlice, "{}");
  without.room_id = "";
  BOOST_TEST(check_create(room, without).ok());
}

BOOST_AUTO_TEST_CASE(v12_additional_creators_must_be_user_ids) {
  TestRoom room(test::v12(), kAlice);
  auto check = [&](const std::string& content) {
    EventSpec spec = create_spec(kAlice, content);
    spec.room_id = "";
    return check_create(room, spec).ok();
  };
  BOOST_TEST(check(R"({"additional_creators":["@bob:b.org"]})"));
  BOOST_TEST(check(R"({"additional_creators":[]})"));
  BOOST_TEST(!check(R"({"additional_creators":"@bob:b.org"})"));
  BOOST_TEST(!check(R"({"additional_creators":["bob"]})"));
  BOOST_TEST(!check(R"({"additional_creators":[5]})"));
}

BOOST_AUTO_TEST_CASE(events_without_a_create_event_in_the_state_are_rejected) {
  TestRoom room(test::v11(), kAlice);
  EventPtr join = room.make(EventSpec(kAlice, "m.room.member", kAlice, R"({"membership":"join"})"));
  BOOST_TEST(!check_auth(*join, StateMap{}, test::v11()).ok());
  BOOST_TEST(room.check(join).ok());
}

BOOST_AUTO_TEST_CASE(events_of_another_room_are_rejected) {
  TestRoom room = public_room(test::v11());
  EventSpec spec = message(kAlice);
  spec.room_id = "!other:a.org";
  BOOST_TEST(!allowed(room, spec));
}

BOOST_AUTO_TEST_CASE(v12_room_id_must_be_the_create_event_id) {
  TestRoom room = public_room(test::v12());
  BOOST_TEST(allowed(room, message(kAlice)));
  EventSpec spec = message(kAlice);
  spec.room_id = "!Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYQ";
  BOOST_TEST(!allowed(room, spec));
}

BOOST_AUTO_TEST_CASE(events_must_be_signed_by_the_sender_server) {
  TestRoom room = public_room(test::v11());
  EventSpec unsigned_spec = message(kAlice);
  unsigned_spec.signers = std::vector<std::string>{};
  BOOST_TEST(outcome(room, unsigned_spec).find("not signed") != std::string::npos);
  EventSpec other = message(kAlice);
  other.signers = std::vector<std::string>{"b.org"};
  BOOST_TEST(!allowed(room, other));
}

BOOST_AUTO_TEST_CASE(non_federating_room_rejects_other_servers) {
  TestRoom room(test::v11(), kAlice, R"({"m.federate":false})");
  room.join(kAlice);
  room.state(kAlice, "m.room.join_rules", R"({"join_rule":"public"})");
  BOOST_TEST(!allowed(room, EventSpec(kBob, "m.room.member", kBob, R"({"membership":"join"})")));
  BOOST_TEST(allowed(room, EventSpec(kCarol, "m.room.member", kCarol, R"({"membership":"join"})")));
}

BOOST_AUTO_TEST_CASE(senders_must_be_joined_to_send) {
  TestRoom room = public_room(test::v11());
  BOOST_TEST(allowed(room, message(kCarol)));
  BOOST_TEST(!allowed(room, message(kBob)));
  room.member(kAlice, kBob, "invite");
  BOOST_TEST(!allowed(room, message(kBob)));
}

BOOST_AUTO_TEST_CASE(events_default_limits_message_events) {
  TestRoom room = public_room(test::v11());
  room.power_levels(R"({"users":{"@alice:a.org":100},"events_default":10})");
  BOOST_TEST(!allowed(room, message(kCarol)));
  room.power_levels(R"({"users":{"@alice:a.org":100,"@carol:a.org":10},"events_default":10})");
  BOOST_TEST(allowed(room, message(kCarol)));
}

BOOST_AUTO_TEST_CASE(state_default_limits_state_events) {
  TestRoom room = public_room(test::v11());
  room.power_levels(R"({"users":{"@alice:a.org":100}})");
  EventSpec topic(kCarol, "m.room.topic", "", R"({"topic":"t"})");
  BOOST_TEST(!allowed(room, topic));
  room.power_levels(R"({"users":{"@alice:a.org":100,"@carol:a.org":50}})");
  BOOST_TEST(allowed(room, topic));
}

BOOST_AUTO_TEST_CASE(events_map_overrides_the_defaults) {
  TestRoom room = public_room(test::v11());
  room.power_levels(
      R"({"users":{"@alice:a.org":100},"events":{"m.room.message":20,"m.room.topic":0}})");
  BOOST_TEST(!allowed(room, message(kCarol)));
  BOOST_TEST(allowed(room, EventSpec(kCarol, "m.room.topic", "", R"({"topic":"t"})")));
}

BOOST_AUTO_TEST_CASE(without_power_levels_only_the_creator_sends_state) {
  TestRoom room = public_room(test::v11());
  BOOST_TEST(allowed(room, EventSpec(kAlice, "m.room.name", "", R"({"name":"n"})")));
  BOOST_TEST(!allowed(room, EventSpec(kCarol, "m.room.name", "", R"({"name":"n"})")));
  BOOST_TEST(allowed(room, message(kCarol)));
}

BOOST_AUTO_TEST_CASE(third_party_invite_events_need_the_invite_level) {
  TestRoom room = public_room(test::v11());
  EventSpec tpi(kCarol, "m.room.third_party_invite", "token", R"({"display_name":"x"})");
  BOOST_TEST(allowed(room, tpi));  // invite level defaults to 0
  room.power_levels(R"({"users":{"@alice:a.org":100},"invite":50,"state_default":0})");
  BOOST_TEST(!allowed(room, tpi));
}

BOOST_AUTO_TEST_CASE(state_keys_starting_with_at_belong_to_that_user) {
  TestRoom room = public_room(test::v11());
  room.power_levels(R"({"users":{"@alice:a.org":100},"state_default":0})");
  BOOST_TEST(allowed(room, EventSpec(kCarol, "m.custom", kCarol, "{}")));
  BOOST_TEST(!allowed(room, EventSpec(kCarol, "m.custom", kAlice, "{}")));
  BOOST_TEST(!allowed(room, EventSpec(kAlice, "m.custom", kCarol, "{}")));
  BOOST_TEST(allowed(room, EventSpec(kCarol, "m.custom", "plain", "{}")));
}

BOOST_AUTO_TEST_CASE(redactions_ignore_the_redact_level_but_follow_events) {
  TestRoom room = public_room(test::v11());
  room.power_levels(R"({"users":{"@alice:a.org":100},"redact":100})");
  EventSpec redaction(kCarol, "m.room.redaction", std::nullopt,
                      R"({"redacts":"$target_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})");
  BOOST_TEST(allowed(room, redaction));
  room.power_levels(R"({"users":{"@alice:a.org":100},"events":{"m.room.redaction":50}})");
  BOOST_TEST(!allowed(room, redaction));
}

BOOST_AUTO_TEST_CASE(auth_types_for_a_message) {
  rapidjson::Document content = test::parse("{}");
  auto v11 = auth_types_for_event("m.room.message", kAlice, std::nullopt, content, test::v11());
  BOOST_TEST(
      (v11 == std::vector<StateKey>{
                  {"m.room.create", ""}, {"m.room.power_levels", ""}, {"m.room.member", kAlice}}));
  auto v12 = auth_types_for_event("m.room.message", kAlice, std::nullopt, content, test::v12());
  BOOST_TEST(
      (v12 == std::vector<StateKey>{{"m.room.power_levels", ""}, {"m.room.member", kAlice}}));
  BOOST_TEST(auth_types_for_event("m.room.create", kAlice, "", content, test::v11()).empty());
}

BOOST_AUTO_TEST_CASE(auth_types_for_member_events) {
  auto types = [](const std::string& content, const std::string& target) {
    return auth_types_for_event("m.room.member", kAlice, target, test::parse(content), test::v12());
  };
  StateKey pl{"m.room.power_levels", ""}, me{"m.room.member", kAlice};
  StateKey bob{"m.room.member", kBob}, rules{"m.room.join_rules", ""};
  BOOST_TEST((types(R"({"membership":"join"})", kAlice) == std::vector<StateKey>{pl, me, rules}));
  BOOST_TEST(
      (types(R"({"membership":"invite"})", kBob) == std::vector<StateKey>{pl, me, bob, rules}));
  BOOST_TEST((types(R"({"membership":"knock"})", kAlice) == std::vector<StateKey>{pl, me, rules}));
  BOOST_TEST((types(R"({"membership":"leave"})", kBob) == std::vector<StateKey>{pl, me, bob}));
  BOOST_TEST((types(R"({"membership":"ban"})", kBob) == std::vector<StateKey>{pl, me, bob}));
  BOOST_TEST(
      (types(R"({"membership":"invite","third_party_invite":{"signed":{"token":"tk"}}})", kBob) ==
       std::vector<StateKey>{pl, me, bob, rules, {"m.room.third_party_invite", "tk"}}));
  BOOST_TEST((types(R"({"membership":"join","join_authorised_via_users_server":"@carol:a.org"})",
                    kAlice) == std::vector<StateKey>{pl, me, rules, {"m.room.member", kCarol}}));
}

BOOST_AUTO_TEST_CASE(auth_state_from_auth_events_checks_the_list) {
  TestRoom room = public_room(test::v11());
  EventPtr pl = room.power_levels(R"({"users":{"@alice:a.org":100}})");
  EventPtr msg = room.make(message(kCarol));
  std::vector<EventPtr> auth;
  for (const std::string& id : msg->auth_events()) {
    for (auto& [key, ev] : room.current) {
      if (ev->event_id() == id) auth.push_back(ev);
    }
  }
  BOOST_REQUIRE(auth.size() == 3u);
  auto state = auth_state_from_auth_events(*msg, auth, test::v11());
  BOOST_REQUIRE(state.ok());
  BOOST_TEST(check_auth(*msg, *state, test::v11()).ok());

  std::vector<EventPtr> missing(auth.begin(), auth.begin() + 2);
  BOOST_TEST(!auth_state_from_auth_events(*msg, missing, test::v11()).ok());
  std::vector<EventPtr> extra = auth;
  extra.push_back(room.current.get("m.room.join_rules", ""));
  BOOST_TEST(!auth_state_from_auth_events(*msg, extra, test::v11()).ok());
}

BOOST_AUTO_TEST_CASE(auth_events_outside_the_selection_or_duplicated_are_rejected) {
  TestRoom room = public_room(test::v11());
  EventPtr old_pl = room.power_levels(R"({"users":{"@alice:a.org":100}})");
  EventPtr new_pl = room.power_levels(R"({"users":{"@alice:a.org":100},"kick":40})");
  EventPtr rules = room.current.get("m.room.join_rules", "");
  EventPtr carol = room.current.get("m.room.member", kCarol);

  EventSpec citing_rules = message(kCarol);  // join_rules are not selected for messages
  citing_rules.auth_events = {room.create->event_id(), carol->event_id(), rules->event_id()};
  EventPtr msg = room.make(citing_rules);
  std::vector<EventPtr> auth{room.create, carol, rules};
  auto r = auth_state_from_auth_events(*msg, auth, test::v11());
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message.find("not expected") != std::string::npos);

  EventSpec two_pls = message(kCarol);
  two_pls.auth_events = {room.create->event_id(), old_pl->event_id(), new_pl->event_id(),
                         carol->event_id()};
  EventPtr dup_msg = room.make(two_pls);
  auto dup =
      auth_state_from_auth_events(*dup_msg, {room.create, old_pl, new_pl, carol}, test::v11());
  BOOST_REQUIRE(!dup.ok());
  BOOST_TEST(dup.error().message.find("Duplicate") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(v11_auth_events_must_include_the_create_event) {
  TestRoom room = public_room(test::v11());
  EventPtr msg = room.make(message(kCarol));
  std::vector<EventPtr> no_create{room.current.get("m.room.member", kCarol)};
  BOOST_TEST(!auth_state_from_auth_events(*msg, no_create, test::v11()).ok());
}

BOOST_AUTO_TEST_CASE(v12_auth_state_takes_the_create_event_from_the_room_id) {
  TestRoom room = public_room(test::v12());
  EventPtr msg = room.make(message(kCarol));
  std::vector<EventPtr> auth{room.current.get("m.room.member", kCarol)};
  auto without = auth_state_from_auth_events(*msg, auth, test::v12());
  BOOST_REQUIRE(without.ok());
  BOOST_TEST(!check_auth(*msg, *without, test::v12()).ok());
  auto with = auth_state_from_auth_events(*msg, auth, test::v12(), room.create);
  BOOST_REQUIRE(with.ok());
  BOOST_TEST(check_auth(*msg, *with, test::v12()).ok());
  std::vector<EventPtr> with_create_listed{room.create, auth[0]};
  BOOST_TEST(!auth_state_from_auth_events(*msg, with_create_listed, test::v12()).ok());
}

BOOST_AUTO_TEST_CASE(servers_required_to_sign_the_event) {
  TestRoom room = public_room(test::v11());
  EventPtr msg = room.make(message(kCarol));
  BOOST_TEST((servers_required_to_sign(*msg, test::v11()) == std::vector<std::string>{"a.org"}));
  EventSpec via(kBob, "m.room.member", kBob,
                R"({"membership":"join","join_authorised_via_users_server":"@carol:c.org"})");
  via.signers = std::vector<std::string>{"b.org", "c.org"};
  EventPtr join = room.make(via);
  BOOST_TEST(
      (servers_required_to_sign(*join, test::v11()) == std::vector<std::string>{"b.org", "c.org"}));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::rooms
