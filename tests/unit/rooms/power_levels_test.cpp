#include "homeserver/rooms/power_levels.h"

#include <boost/test/unit_test.hpp>

#include "tests/unit/rooms/test_room.h"

namespace haven::rooms {

using test::parse;
using test::TestRoom;

namespace {
const std::string kAlice = "@alice:a.org";
const std::string kBob = "@bob:b.org";
}  // namespace

BOOST_AUTO_TEST_SUITE(power_levels_suite)

BOOST_AUTO_TEST_CASE(defaults_without_an_event_give_the_creator_100) {
  for (const RoomVersion* v : {&test::v10(), &test::v11()}) {
    TestRoom room(*v, kAlice);
    PowerLevels pl = power_levels(room.current, *v);
    BOOST_TEST(!pl.has_event());
    BOOST_TEST(pl.user_level(kAlice) == 100);
    BOOST_TEST(pl.user_level(kBob) == 0);
    BOOST_TEST(pl.users_default() == 0);
    BOOST_TEST(pl.events_default() == 0);
    BOOST_TEST(pl.state_default() == 50);
    BOOST_TEST(pl.invite() == 0);
    BOOST_TEST(pl.kick() == 50);
    BOOST_TEST(pl.ban() == 50);
    BOOST_TEST(pl.redact() == 50);
    BOOST_TEST(pl.notification_level("room") == 50);
    BOOST_TEST(pl.event_level("m.room.name", true) == 50);
    BOOST_TEST(pl.event_level("m.room.message", false) == 0);
  }
}

BOOST_AUTO_TEST_CASE(v10_creator_comes_from_content_creator) {
  TestRoom room(test::v10(), kAlice, R"({"creator":"@zed:a.org"})");
  PowerLevels pl = power_levels(room.current, test::v10());
  BOOST_TEST(pl.user_level("@zed:a.org") == 100);
  BOOST_TEST(pl.user_level(kAlice) == 0);
}

BOOST_AUTO_TEST_CASE(event_values_override_defaults) {
  TestRoom room(test::v11(), kAlice);
  room.join(kAlice);
  room.power_levels(
      R"({"users":{"@alice:a.org":100,"@bob:b.org":20},"users_default":5,"events_default":1,)"
      R"("state_default":60,"invite":10,"kick":70,"ban":80,"redact":90,)"
      R"("events":{"m.room.name":30,"m.custom":7},"notifications":{"room":40}})");
  PowerLevels pl = power_levels(room.current, test::v11());
  BOOST_TEST(pl.has_event());
  BOOST_TEST(pl.user_level(kBob) == 20);
  BOOST_TEST(pl.user_level("@carol:c.org") == 5);
  BOOST_TEST(pl.event_level("m.room.name", true) == 30);
  BOOST_TEST(pl.event_level("m.custom", false) == 7);
  BOOST_TEST(pl.event_level("m.room.topic", true) == 60);
  BOOST_TEST(pl.event_level("m.room.message", false) == 1);
  BOOST_TEST(pl.invite() == 10);
  BOOST_TEST(pl.kick() == 70);
  BOOST_TEST(pl.ban() == 80);
  BOOST_TEST(pl.redact() == 90);
  BOOST_TEST(pl.notification_level("room") == 40);
  BOOST_TEST(*pl.explicit_value("kick") == 70);
}

BOOST_AUTO_TEST_CASE(with_an_event_a_v11_creator_has_only_the_listed_level) {
  TestRoom room(test::v11(), kAlice);
  room.join(kAlice);
  room.power_levels(R"({"users":{"@alice:a.org":100}})");
  room.power_levels(R"({"users":{"@alice:a.org":60}})");
  BOOST_TEST(power_levels(room.current, test::v11()).user_level(kAlice) == 60);
}

BOOST_AUTO_TEST_CASE(v12_creators_are_infinitely_powerful) {
  TestRoom room(test::v12(), kAlice, R"({"additional_creators":["@bob:b.org"]})");
  PowerLevels none = power_levels(room.current, test::v12());
  BOOST_TEST(none.user_level(kAlice) == kCreatorPowerLevel);
  BOOST_TEST(none.user_level(kBob) == kCreatorPowerLevel);
  BOOST_TEST(none.user_level("@carol:c.org") == 0);
  room.join(kAlice);
  room.power_levels(R"({"users":{"@carol:c.org":100},"users_default":0})");
  PowerLevels pl = power_levels(room.current, test::v12());
  BOOST_TEST(pl.user_level(kAlice) == kCreatorPowerLevel);
  BOOST_TEST(pl.user_level("@carol:c.org") < pl.user_level(kBob));
  BOOST_TEST(pl.is_creator(kBob));
}

BOOST_AUTO_TEST_CASE(validation_requires_integers) {
  const RoomVersion& v = test::v11();
  BOOST_TEST(validate_power_levels_content(parse(R"({"ban":50,"users":{}})"), v).ok());
  BOOST_TEST(!validate_power_levels_content(parse(R"({"ban":"50"})"), v).ok());
  BOOST_TEST(!validate_power_levels_content(parse(R"({"kick":50.5})"), v).ok());
  BOOST_TEST(!validate_power_levels_content(parse(R"({"events":{"m.x":"1"}})"), v).ok());
  BOOST_TEST(!validate_power_levels_content(parse(R"({"events":[]})"), v).ok());
  BOOST_TEST(!validate_power_levels_content(parse(R"({"notifications":{"room":true}})"), v).ok());
  BOOST_TEST(!validate_power_levels_content(parse(R"({"users":{"@a:x.org":"1"}})"), v).ok());
  BOOST_TEST(!validate_power_levels_content(parse(R"({"users":{"alice":1}})"), v).ok());
  BOOST_TEST(!validate_power_levels_content(parse(R"({"users":5})"), v).ok());
  BOOST_TEST(!validate_power_levels_content(parse(R"({"ban":9007199254740992})"), v).ok());
  Status s = validate_power_levels_content(parse(R"({"redact":null})"), v);
  BOOST_TEST(s.error().errcode == "M_FORBIDDEN");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::rooms
