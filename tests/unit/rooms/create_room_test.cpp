#include "homeserver/rooms/create_room.h"

#include <boost/test/unit_test.hpp>

#include "homeserver/rooms/power_levels.h"
#include "tests/unit/rooms/test_room.h"

namespace haven::rooms {

using test::parse;

namespace {

const std::string kAlice = "@alice:a.org";

CreateRoomRequest request(const std::string& body) {
  auto r = parse_create_room_request(parse(body));
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  return std::move(r.value());
}

std::vector<EventDraft> plan(const std::string& body, const RoomVersion& v, bool encrypt = false) {
  CreateRoomOptions options;
  options.room_id = v.room_id_from_create_event ? "" : "!new:a.org";
  options.encrypt_by_default = encrypt;
  options.now_ms = 42;
  return plan_create_room(request(body), kAlice, v, "a.org", options);
}

std::vector<std::string> types(const std::vector<EventDraft>& drafts) {
  std::vector<std::string> out;
  for (auto& d : drafts) out.push_back(d.type);
  return out;
}

const EventDraft* find(const std::vector<EventDraft>& drafts, const std::string& type,
                       const std::string& key = "") {
  for (auto& d : drafts) {
    if (d.type == type && d.state_key == key) return &d;
  }
  return nullptr;
}

std::string str(const rapidjson::Value& v, const char* key) {
  return v.HasMember(key) && v[key].IsString() ? v[key].GetString() : "<absent>";
}

// Builds every planned event in order, as the room service does; fails on any refusal.
StateMap build_all(std::vector<EventDraft>& drafts, const RoomVersion& v) {
  StateMap state;
  std::vector<std::string> prev;
  int64_t depth = 1;
  std::string room_id;
  for (EventDraft& d : drafts) {
    if (!room_id.empty()) d.room_id = room_id;
    auto ev = build_event(d, prev, depth++, state, v, "a.org", test::test_key());
    BOOST_REQUIRE_MESSAGE(ev.ok(), d.type << " refused: " << (ev.ok() ? "" : ev.error().message));
    if (room_id.empty()) room_id = (*ev)->room_id();
    state.set(*ev);
    prev = {(*ev)->event_id()};
  }
  return state;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(create_room)

BOOST_AUTO_TEST_CASE(events_come_in_the_spec_order) {
  auto drafts = plan(R"({"preset":"private_chat","room_alias_name":"lounge","name":"N",)"
                     R"("topic":"T","invite":["@bob:b.org"],)"
                     R"("initial_state":[{"type":"m.custom","state_key":"k","content":{}}]})",
                     test::v11(), true);
  std::vector<std::string> expected = {"m.room.create",       "m.room.member",
                                       "m.room.power_levels", "m.room.canonical_alias",
                                       "m.room.join_rules",   "m.room.history_visibility",
                                       "m.room.guest_access", "m.custom",
                                       "m.room.encryption",   "m.room.name",
                                       "m.room.topic",        "m.room.member"};
  BOOST_TEST((types(drafts) == expected));
  for (auto& d : drafts) {
    BOOST_TEST(d.sender == kAlice);
    BOOST_TEST(d.room_id == "!new:a.org");
    BOOST_TEST(d.origin_server_ts == 42);
  }
  BOOST_TEST(str(find(drafts, "m.room.canonical_alias")->content, "alias") == "#lounge:a.org");
  BOOST_TEST(*drafts.back().state_key == "@bob:b.org");
  BOOST_TEST(str(drafts.back().content, "membership") == "invite");
}

BOOST_AUTO_TEST_CASE(create_content_per_version) {
  auto v10 = plan(R"({"creation_content":{"m.federate":false,"creator":"@x:y.org"}})", test::v10());
  BOOST_TEST(str(v10[0].content, "creator") == kAlice);
  BOOST_TEST(str(v10[0].content, "room_version") == "10");
  BOOST_TEST(v10[0].content["m.federate"].IsFalse());
  auto v11 = plan(R"({"creation_content":{"creator":"@x:y.org","room_version":"1"}})", test::v11());
  BOOST_TEST(!v11[0].content.HasMember("creator"));
  BOOST_TEST(str(v11[0].content, "room_version") == "11");
  auto v12 = plan(R"({"creation_content":{"additional_creators":["@c:c.org"]}})", test::v12());
  BOOST_TEST(v12[0].content["additional_creators"].Size() == 1u);
  for (auto& d : v12) BOOST_TEST(d.room_id.empty());
}

BOOST_AUTO_TEST_CASE(presets_set_join_rules_visibility_and_guest_access) {
  struct Case {
    const char* preset;
    const char* join_rule;
    const char* guest_access;
  } cases[] = {{"private_chat", "invite", "can_join"},
               {"trusted_private_chat", "invite", "can_join"},
               {"public_chat", "public", "forbidden"}};
  for (auto& c : cases) {
    auto drafts = plan(std::string(R"({"preset":")") + c.preset + "\"}", test::v11());
    BOOST_TEST(str(find(drafts, "m.room.join_rules")->content, "join_rule") == c.join_rule);
    BOOST_TEST(str(find(drafts, "m.room.history_visibility")->content, "history_visibility") ==
               "shared");
    BOOST_TEST(str(find(drafts, "m.room.guest_access")->content, "guest_access") == c.guest_access);
  }
}

BOOST_AUTO_TEST_CASE(visibility_picks_the_preset_when_none_is_given) {
  auto pub = plan(R"({"visibility":"public"})", test::v11());
  BOOST_TEST(str(find(pub, "m.room.join_rules")->content, "join_rule") == "public");
  auto priv = plan(R"({})", test::v11());
  BOOST_TEST(str(find(priv, "m.room.join_rules")->content, "join_rule") == "invite");
}

BOOST_AUTO_TEST_CASE(default_power_levels_list_the_creator_before_v12) {
  auto drafts = plan("{}", test::v11());
  const rapidjson::Value& pl = find(drafts, "m.room.power_levels")->content;
  BOOST_TEST(pl["users"][kAlice.c_str()].GetInt() == 100);
  BOOST_TEST(pl["events"]["m.room.tombstone"].GetInt() == 100);
  BOOST_TEST(pl["state_default"].GetInt() == 50);
  BOOST_TEST(pl["invite"].GetInt() == 0);
}

BOOST_AUTO_TEST_CASE(v12_power_levels_omit_creators_and_raise_tombstone) {
  auto drafts = plan("{}", test::v12());
  const rapidjson::Value& pl = find(drafts, "m.room.power_levels")->content;
  BOOST_TEST(pl["users"].ObjectEmpty());
  BOOST_TEST(pl["events"]["m.room.tombstone"].GetInt() > pl["state_default"].GetInt());
  BOOST_TEST(pl["events"]["m.room.tombstone"].GetInt() > 100);
}

BOOST_AUTO_TEST_CASE(trusted_private_chat_invitees_get_the_creator_level) {
  std::string body = R"({"preset":"trusted_private_chat","invite":["@bob:b.org"]})";
  auto v11 = plan(body, test::v11());
  BOOST_TEST(find(v11, "m.room.power_levels")->content["users"]["@bob:b.org"].GetInt() == 100);
  BOOST_TEST(!v11[0].content.HasMember("additional_creators"));
  auto v12 = plan(R"({"preset":"trusted_private_chat","invite":["@bob:b.org"],)"
                  R"("creation_content":{"additional_creators":["@bob:b.org","@c:c.org"]}})",
                  test::v12());
  const rapidjson::Value& extra = v12[0].content["additional_creators"];
  BOOST_REQUIRE(extra.Size() == 2u);  // deduplicated
  BOOST_TEST(std::string(extra[0].GetString()) == "@bob:b.org");
  BOOST_TEST(!find(v12, "m.room.power_levels")->content["users"].HasMember("@bob:b.org"));
}

BOOST_AUTO_TEST_CASE(private_chat_invitees_get_no_special_level) {
  auto drafts = plan(R"({"preset":"private_chat","invite":["@bob:b.org"]})", test::v11());
  BOOST_TEST(!find(drafts, "m.room.power_levels")->content["users"].HasMember("@bob:b.org"));
}

BOOST_AUTO_TEST_CASE(power_level_override_replaces_top_level_keys) {
  auto drafts = plan(R"({"power_level_content_override":{"users":{"@alice:a.org":100,)"
                     R"("@bob:b.org":75},"kick":20}})",
                     test::v11());
  const rapidjson::Value& pl = find(drafts, "m.room.power_levels")->content;
  BOOST_TEST(pl["kick"].GetInt() == 20);
  BOOST_TEST(pl["users"]["@bob:b.org"].GetInt() == 75);
  BOOST_TEST(pl["ban"].GetInt() == 50);          // untouched defaults remain
  BOOST_TEST(pl["events"].MemberCount() == 8u);  // not replaced
}

BOOST_AUTO_TEST_CASE(initial_state_takes_precedence_over_the_preset) {
  auto drafts = plan(R"({"preset":"public_chat","initial_state":[)"
                     R"({"type":"m.room.join_rules","content":{"join_rule":"knock"}},)"
                     R"({"type":"m.room.history_visibility","state_key":"",)"
                     R"("content":{"history_visibility":"joined"}}]})",
                     test::v11());
  int join_rules = 0;
  for (auto& d : drafts) join_rules += d.type == "m.room.join_rules";
  BOOST_TEST(join_rules == 1);
  BOOST_TEST(str(find(drafts, "m.room.join_rules")->content, "join_rule") == "knock");
  BOOST_TEST(str(find(drafts, "m.room.history_visibility")->content, "history_visibility") ==
             "joined");
  BOOST_TEST(find(drafts, "m.room.guest_access") != nullptr);
}

BOOST_AUTO_TEST_CASE(name_and_topic_take_precedence_over_initial_state) {
  auto drafts = plan(R"({"name":"Real","topic":"About","initial_state":[)"
                     R"({"type":"m.room.name","content":{"name":"Old"}},)"
                     R"({"type":"m.room.topic","content":{"topic":"Old"}}]})",
                     test::v11());
  int names = 0;
  for (auto& d : drafts) names += d.type == "m.room.name";
  BOOST_TEST(names == 1);
  BOOST_TEST(str(find(drafts, "m.room.name")->content, "name") == "Real");
  const rapidjson::Value& topic = find(drafts, "m.room.topic")->content;
  BOOST_TEST(str(topic, "topic") == "About");
  BOOST_TEST(str(topic["m.topic"]["m.text"][0], "mimetype") == "text/plain");
}

BOOST_AUTO_TEST_CASE(encryption_is_added_by_default_unless_given) {
  auto on = plan("{}", test::v11(), true);
  BOOST_REQUIRE(find(on, "m.room.encryption"));
  BOOST_TEST(str(find(on, "m.room.encryption")->content, "algorithm") == "m.megolm.v1.aes-sha2");
  BOOST_TEST(!find(plan("{}", test::v11(), false), "m.room.encryption"));
  auto given = plan(R"({"initial_state":[{"type":"m.room.encryption","content":)"
                    R"({"algorithm":"m.custom"}}]})",
                    test::v11(), true);
  int count = 0;
  for (auto& d : given) count += d.type == "m.room.encryption";
  BOOST_TEST(count == 1);
  BOOST_TEST(str(find(given, "m.room.encryption")->content, "algorithm") == "m.custom");
}

BOOST_AUTO_TEST_CASE(direct_invites_carry_is_direct) {
  auto drafts = plan(R"({"invite":["@bob:b.org"],"is_direct":true})", test::v11());
  BOOST_TEST(drafts.back().content["is_direct"].IsTrue());
  auto plain = plan(R"({"invite":["@bob:b.org"]})", test::v11());
  BOOST_TEST(!plain.back().content.HasMember("is_direct"));
}

BOOST_AUTO_TEST_CASE(the_creator_join_carries_the_profile) {
  CreateRoomOptions options;
  options.room_id = "!r:a.org";
  options.creator_displayname = "Alice";
  auto drafts = plan_create_room(request("{}"), kAlice, test::v11(), "a.org", options);
  BOOST_TEST(str(drafts[1].content, "displayname") == "Alice");
  BOOST_TEST(str(drafts[1].content, "membership") == "join");
}

BOOST_AUTO_TEST_CASE(every_preset_builds_and_passes_auth_in_every_version) {
  for (const RoomVersion* v : {&test::v10(), &test::v11(), &test::v12()}) {
    for (const char* preset : {"private_chat", "trusted_private_chat", "public_chat"}) {
      auto drafts = plan(std::string(R"({"preset":")") + preset +
                             R"(","name":"n","topic":"t","room_alias_name":"x",)"
                             R"("invite":["@bob:b.org","@carol:a.org"],"is_direct":true})",
                         *v, true);
      StateMap state = build_all(drafts, *v);
      BOOST_TEST(membership_of(state, "@bob:b.org") == "invite");
      PowerLevels pl = power_levels(state, *v);
      bool trusted = std::string(preset) == "trusted_private_chat";
      BOOST_TEST((pl.user_level("@bob:b.org") >= 100) == trusted);
    }
  }
}

BOOST_AUTO_TEST_CASE(an_override_that_disables_the_creator_fails_to_build) {
  auto drafts =
      plan(R"({"power_level_content_override":{"users":{},"state_default":100}})", test::v11());
  StateMap state;
  std::vector<std::string> prev;
  Status last;
  for (EventDraft& d : drafts) {
    auto ev = build_event(d, prev, 1, state, test::v11(), "a.org", test::test_key());
    if (!ev.ok()) {
      last = ev.error();
      break;
    }
    state.set(*ev);
    prev = {(*ev)->event_id()};
  }
  BOOST_TEST(!last.ok());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::rooms
