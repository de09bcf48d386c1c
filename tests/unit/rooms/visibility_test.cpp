#include "homeserver/rooms/visibility.h"

#include <boost/test/unit_test.hpp>

#include "tests/unit/rooms/test_room.h"

namespace haven::rooms {

using test::EventSpec;
using test::TestRoom;

namespace {

const std::string kAlice = "@alice:a.org";
const std::string kBob = "@bob:b.org";

struct Fixture {
  Fixture() : room(test::v11(), kAlice) {
    room.join(kAlice);
    message = room.apply(EventSpec(kAlice, "m.room.message", std::nullopt, R"({"body":"x"})"));
  }
  bool sees(const std::string& membership, const std::string& visibility,
            bool joined_later = false) {
    return user_may_see_event(*message, kBob, {membership, visibility, joined_later});
  }
  TestRoom room;
  EventPtr message;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(visibility)

BOOST_FIXTURE_TEST_CASE(world_readable_events_are_visible_to_anyone, Fixture) {
  BOOST_TEST(sees("", "world_readable"));
  BOOST_TEST(sees("ban", "world_readable"));
}

BOOST_FIXTURE_TEST_CASE(joined_users_see_everything, Fixture) {
  for (const char* v : {"shared", "invited", "joined"}) BOOST_TEST(sees("join", v));
}

BOOST_FIXTURE_TEST_CASE(shared_needs_a_later_join, Fixture) {
  BOOST_TEST(sees("", "shared", true));
  BOOST_TEST(!sees("", "shared", false));
  BOOST_TEST(!sees("leave", "shared", false));
  BOOST_TEST(sees("", "", true));       // no setting means shared
  BOOST_TEST(sees("", "bogus", true));  // unknown means shared
}

BOOST_FIXTURE_TEST_CASE(invited_lets_invited_users_see, Fixture) {
  BOOST_TEST(sees("invite", "invited"));
  BOOST_TEST(!sees("invite", "joined"));
  BOOST_TEST(!sees("leave", "invited", true));
  BOOST_TEST(!sees("knock", "invited", true));
}

BOOST_FIXTURE_TEST_CASE(joined_hides_events_from_non_members, Fixture) {
  BOOST_TEST(!sees("", "joined", true));
  BOOST_TEST(!sees("invite", "joined", true));
  BOOST_TEST(!sees("leave", "joined", true));
}

BOOST_FIXTURE_TEST_CASE(own_membership_events_count_the_state_after, Fixture) {
  room.state(kAlice, "m.room.join_rules", R"({"join_rule":"public"})");
  EventPtr join = room.join(kBob);
  BOOST_TEST(user_may_see_event(*join, kBob, {"", "joined", false}));
  EventPtr leave = room.member(kBob, kBob, "leave");
  BOOST_TEST(user_may_see_event(*leave, kBob, {"join", "joined", false}));
  // Someone else's join does not help bob.
  EventPtr carol = room.join("@carol:a.org");
  BOOST_TEST(!user_may_see_event(*carol, kBob, {"", "joined", false}));
}

BOOST_FIXTURE_TEST_CASE(history_visibility_changes_count_before_and_after, Fixture) {
  EventPtr open =
      room.state(kAlice, "m.room.history_visibility", R"({"history_visibility":"world_readable"})");
  BOOST_TEST(user_may_see_event(*open, kBob, {"", "joined", false}));
  EventPtr close =
      room.state(kAlice, "m.room.history_visibility", R"({"history_visibility":"joined"})");
  BOOST_TEST(user_may_see_event(*close, kBob, {"", "world_readable", false}));
  EventPtr stay =
      room.state(kAlice, "m.room.history_visibility", R"({"history_visibility":"joined"})");
  BOOST_TEST(!user_may_see_event(*stay, kBob, {"", "joined", false}));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::rooms
