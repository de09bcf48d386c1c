#include "homeserver/rooms/state.h"

#include <boost/test/unit_test.hpp>

#include "tests/unit/rooms/test_room.h"

namespace haven::rooms {

using test::EventSpec;
using test::TestRoom;

namespace {
const std::string kAlice = "@alice:a.org";
const std::string kBob = "@bob:b.org";
}  // namespace

BOOST_AUTO_TEST_SUITE(state)

BOOST_AUTO_TEST_CASE(state_map_replaces_by_type_and_state_key) {
  TestRoom room(test::v11(), kAlice);
  EventPtr join = room.join(kAlice);
  StateMap map;
  map.set(room.create);
  map.set(join);
  BOOST_TEST(map.size() == 2u);
  BOOST_TEST(map.get("m.room.member", kAlice) == join);
  BOOST_TEST(map.contains("m.room.create", ""));
  EventPtr name = room.state(kAlice, "m.room.name", R"({"name":"one"})");
  EventPtr name2 = room.state(kAlice, "m.room.name", R"({"name":"two"})");
  map.set(name);
  map.set(name2);
  BOOST_TEST(map.get("m.room.name", "") == name2);
  BOOST_TEST(map.size() == 3u);
  map.erase("m.room.name", "");
  BOOST_TEST(!map.get("m.room.name", ""));
  BOOST_TEST(map.size() == 2u);
}

BOOST_AUTO_TEST_CASE(state_map_ignores_message_events_and_null) {
  TestRoom room(test::v11(), kAlice);
  room.join(kAlice);
  EventPtr msg = room.apply(EventSpec(kAlice, "m.room.message", std::nullopt, R"({"body":"x"})"));
  StateMap map;
  map.set(msg);
  map.set(nullptr);
  BOOST_TEST(map.empty());
}

BOOST_AUTO_TEST_CASE(state_map_iterates_in_key_order) {
  TestRoom room(test::v11(), kAlice);
  std::vector<std::string> types;
  room.join(kAlice);
  for (auto& [key, ev] : room.current) types.push_back(key.first);
  BOOST_TEST((types == std::vector<std::string>{"m.room.create", "m.room.member"}));
}

BOOST_AUTO_TEST_CASE(membership_of_reads_the_member_event) {
  TestRoom room(test::v11(), kAlice);
  room.join(kAlice);
  room.member(kAlice, kBob, "invite");
  BOOST_TEST(membership_of(room.current, kAlice) == "join");
  BOOST_TEST(membership_of(room.current, kBob) == "invite");
  BOOST_TEST(membership_of(room.current, "@carol:c.org") == "");
}

BOOST_AUTO_TEST_CASE(join_rule_defaults_to_invite) {
  TestRoom room(test::v11(), kAlice);
  room.join(kAlice);
  BOOST_TEST(join_rule(room.current) == "invite");
  room.state(kAlice, "m.room.join_rules", R"({"join_rule":"public"})");
  BOOST_TEST(join_rule(room.current) == "public");
  room.state(kAlice, "m.room.join_rules", R"({})");
  BOOST_TEST(join_rule(room.current) == "invite");
}

BOOST_AUTO_TEST_CASE(history_visibility_defaults_to_shared) {
  TestRoom room(test::v11(), kAlice);
  room.join(kAlice);
  BOOST_TEST(history_visibility(room.current) == "shared");
  room.state(kAlice, "m.room.history_visibility", R"({"history_visibility":"joined"})");
  BOOST_TEST(history_visibility(room.current) == "joined");
  room.state(kAlice, "m.room.history_visibility", R"({"history_visibility":"bogus"})");
  BOOST_TEST(history_visibility(room.current) == "shared");
}

BOOST_AUTO_TEST_CASE(creators_depend_on_the_version) {
  TestRoom v10(test::v10(), kAlice, R"({"creator":"@zed:a.org"})");
  BOOST_TEST((room_creators(*v10.create, test::v10()) == std::vector<std::string>{"@zed:a.org"}));
  TestRoom v11(test::v11(), kAlice, R"({"additional_creators":["@bob:b.org"]})");
  BOOST_TEST((room_creators(*v11.create, test::v11()) == std::vector<std::string>{kAlice}));
  TestRoom v12(test::v12(), kAlice, R"({"additional_creators":["@bob:b.org","@alice:a.org"]})");
  BOOST_TEST((room_creators(*v12.create, test::v12()) == std::vector<std::string>{kAlice, kBob}));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::rooms
