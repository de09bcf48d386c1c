// The m.room.power_levels rules of check_auth (homeserver/rooms/auth_power_levels.cpp).
#include <boost/test/unit_test.hpp>

#include "homeserver/rooms/auth_rules.h"
#include "tests/unit/rooms/test_room.h"

namespace haven::rooms {

using test::EventSpec;
using test::message_of;
using test::TestRoom;

namespace {

const std::string kAlice = "@alice:a.org";  // creator, 100
const std::string kBob = "@bob:b.org";      // additional creator in v12 rooms
const std::string kCarol = "@carol:a.org";  // moderator, 50
const std::string kDave = "@dave:d.org";    // 10

// A v11 room where alice (100), carol (50) and dave (10) are joined; `base` is the rest of the
// current power levels content (without users).
TestRoom room_with(const std::string& base = "") {
  TestRoom room(test::v11(), kAlice);
  room.join(kAlice);
  room.state(kAlice, "m.room.join_rules", R"({"join_rule":"public"})");
  room.join(kCarol);
  room.join(kDave);
  room.power_levels(R"({"users":{"@alice:a.org":100,"@carol:a.org":50,"@dave:d.org":10})" +
                    std::string(base.empty() ? "" : ",") + base + "}");
  return room;
}

bool carol_may_set(const TestRoom& room, const std::string& content) {
  Status s = room.check(room.make(EventSpec(kCarol, "m.room.power_levels", "", content)));
  BOOST_TEST_MESSAGE(content << ": " << message_of(s));
  return s.ok();
}

// Carol's edits keep every user as is unless the test says otherwise.
std::string users(const std::string& extra = "") {
  return R"("users":{"@alice:a.org":100,"@carol:a.org":50,"@dave:d.org":10)" + extra + "}";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(auth_power_levels)

BOOST_AUTO_TEST_CASE(the_first_power_levels_event_is_allowed_for_the_creator) {
  TestRoom room(test::v11(), kAlice);
  room.join(kAlice);
  EventSpec first(kAlice, "m.room.power_levels", "",
                  R"({"users":{"@alice:a.org":100,"@x:a.org":9000},"ban":9000})");
  BOOST_TEST(room.check(room.make(first)).ok());
}

BOOST_AUTO_TEST_CASE(sending_power_levels_needs_the_state_level) {
  TestRoom room = room_with(R"("events":{"m.room.power_levels":100})");
  BOOST_TEST(!carol_may_set(room, "{" + users() + "}"));
}

BOOST_AUTO_TEST_CASE(non_integer_values_are_rejected) {
  TestRoom room = room_with();
  BOOST_TEST(!carol_may_set(room, "{" + users() + R"(,"kick":"10"})"));
  BOOST_TEST(!carol_may_set(room, "{" + users() + R"(,"events":{"m.x":"1"}})"));
  BOOST_TEST(!carol_may_set(room, R"({"users":{"carol":1}})"));
  BOOST_TEST(!carol_may_set(room, "{" + users() + R"(,"notifications":[]})"));
}

BOOST_AUTO_TEST_CASE(top_level_levels_change_only_within_own_level) {
  TestRoom room = room_with(R"("ban":80)");
  BOOST_TEST(carol_may_set(room, "{" + users() + R"(,"ban":80,"kick":40})"));
  BOOST_TEST(carol_may_set(room, "{" + users() + R"(,"ban":80,"kick":50})"));
  BOOST_TEST(!carol_may_set(room, "{" + users() + R"(,"ban":80,"kick":51})"));
  BOOST_TEST(!carol_may_set(room, "{" + users() + R"(,"ban":40})"));  // current above own
  BOOST_TEST(!carol_may_set(room, "{" + users() + "}"));              // removing ban 80
  BOOST_TEST(!carol_may_set(room, "{" + users() + R"(,"ban":80,"users_default":60})"));
}

BOOST_AUTO_TEST_CASE(events_entries_change_only_within_own_level) {
  TestRoom room = room_with(R"("events":{"m.room.name":20,"m.room.tombstone":100})");
  std::string keep_tombstone = R"("m.room.tombstone":100)";
  BOOST_TEST(carol_may_set(
      room, "{" + users() + R"(,"events":{"m.room.name":50,)" + keep_tombstone + "}}"));
  BOOST_TEST(!carol_may_set(
      room, "{" + users() + R"(,"events":{"m.room.name":51,)" + keep_tombstone + "}}"));
  BOOST_TEST(!carol_may_set(room, "{" + users() + R"(,"events":{"m.room.name":20}})"));
  BOOST_TEST(!carol_may_set(
      room, "{" + users() + R"(,"events":{"m.room.name":20,)" + R"("m.room.tombstone":50}})"));
  BOOST_TEST(!carol_may_set(room, "{" + users() + R"(,"events":{"m.room.name":20,)" +
                                      keep_tombstone + R"(,"m.new":60}})"));
}

BOOST_AUTO_TEST_CASE(notifications_change_only_within_own_level) {
  TestRoom room = room_with(R"("notifications":{"room":90})");
  BOOST_TEST(!carol_may_set(room, "{" + users() + R"(,"notifications":{"room":40}})"));
  TestRoom low = room_with(R"("notifications":{"room":20})");
  BOOST_TEST(carol_may_set(low, "{" + users() + R"(,"notifications":{"room":50}})"));
  BOOST_TEST(!carol_may_set(low, "{" + users() + R"(,"notifications":{"room":60}})"));
}

BOOST_AUTO_TEST_CASE(users_below_own_level_can_be_changed) {
  TestRoom room = room_with();
  std::string demote = R"({"users":{"@alice:a.org":100,"@carol:a.org":50,"@dave:d.org":0}})";
  BOOST_TEST(carol_may_set(room, demote));
  std::string promote = R"({"users":{"@alice:a.org":100,"@carol:a.org":50,"@dave:d.org":50}})";
  BOOST_TEST(carol_may_set(room, promote));  // up to one's own level
  std::string too_high = R"({"users":{"@alice:a.org":100,"@carol:a.org":50,"@dave:d.org":51}})";
  BOOST_TEST(!carol_may_set(room, too_high));
  std::string removed = R"({"users":{"@alice:a.org":100,"@carol:a.org":50}})";
  BOOST_TEST(carol_may_set(room, removed));
}

BOOST_AUTO_TEST_CASE(users_at_or_above_own_level_cannot_be_changed) {
  TestRoom room = room_with();
  BOOST_TEST(!carol_may_set(room, R"({"users":{"@alice:a.org":50,"@carol:a.org":50,)"
                                  R"("@dave:d.org":10}})"));
  BOOST_TEST(!carol_may_set(room, R"({"users":{"@carol:a.org":50,"@dave:d.org":10}})"));
  room.power_levels(R"({"users":{"@alice:a.org":100,"@carol:a.org":50,"@dave:d.org":50}})");
  BOOST_TEST(!carol_may_set(room, R"({"users":{"@alice:a.org":100,"@carol:a.org":50,)"
                                  R"("@dave:d.org":10}})"));  // equal level
}

BOOST_AUTO_TEST_CASE(own_level_can_be_lowered_but_not_raised) {
  TestRoom room = room_with();
  BOOST_TEST(carol_may_set(room, R"({"users":{"@alice:a.org":100,"@carol:a.org":20,)"
                                 R"("@dave:d.org":10}})"));
  BOOST_TEST(!carol_may_set(room, R"({"users":{"@alice:a.org":100,"@carol:a.org":60,)"
                                  R"("@dave:d.org":10}})"));
}

BOOST_AUTO_TEST_CASE(v12_power_levels_may_not_list_creators) {
  TestRoom room(test::v12(), kAlice, R"({"additional_creators":["@bob:b.org"]})");
  room.join(kAlice);
  auto check = [&](const std::string& content) {
    return room.check(room.make(EventSpec(kAlice, "m.room.power_levels", "", content))).ok();
  };
  BOOST_TEST(check(R"({"users":{"@carol:a.org":50}})"));
  BOOST_TEST(!check(R"({"users":{"@alice:a.org":100}})"));
  BOOST_TEST(!check(R"({"users":{"@bob:b.org":100}})"));
}

BOOST_AUTO_TEST_CASE(v12_creators_may_set_any_level) {
  TestRoom room(test::v12(), kAlice, R"({"additional_creators":["@bob:b.org"]})");
  room.join(kAlice);
  room.state(kAlice, "m.room.join_rules", R"({"join_rule":"public"})");
  room.join(kBob);
  room.power_levels(R"({"users":{"@carol:a.org":9007199254740991},"ban":9007199254740991})");
  EventSpec by_bob(kBob, "m.room.power_levels", "", R"({"users":{},"ban":50})");
  BOOST_TEST(room.check(room.make(by_bob)).ok());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::rooms
