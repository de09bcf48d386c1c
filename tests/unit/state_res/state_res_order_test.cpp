// Unit tests of homeserver/rooms/state_res_order.cpp and state_res_checks.cpp: power events,
// sender power levels, the reverse topological power ordering, the mainline ordering and the
// iterative auth checks.
#include <boost/test/unit_test.hpp>

#include "homeserver/rooms/power_levels.h"
#include "homeserver/rooms/state_res_steps.h"
#include "tests/unit/state_res/dag_room.h"

namespace haven::rooms {

using state_res::EventIdSet;
using test::DagRoom;
using test::EventSpec;
using test::join;

namespace {

const std::string kAlice = "@alice:a.org";
const std::string kBob = "@bob:b.org";
const std::string kCarol = "@carol:c.org";

EventSpec power_levels(const RoomVersion& v, const std::string& users,
                       const std::string& sender = kAlice) {
  std::string alice = v.creators_privileged ? "" : "\"" + kAlice + "\":100";
  std::string sep = alice.empty() || users.empty() ? "" : ",";
  return {sender, "m.room.power_levels", "", "{\"users\":{" + alice + sep + users + "}}"};
}

EventSpec topic(const std::string& sender, const std::string& text) {
  return {sender, "m.room.topic", "", "{\"topic\":\"" + text + "\"}"};
}

// Alice's public room where Bob and Carol joined.
DagRoom public_room(const RoomVersion& v) {
  DagRoom room(v, kAlice);
  room.add("IMA", join(kAlice), {"CREATE"});
  room.add("PL1", power_levels(v, ""), {"IMA"});
  room.add("JR", {kAlice, "m.room.join_rules", "", R"({"join_rule":"public"})"}, {"PL1"});
  room.add("IMB", join(kBob), {"JR"});
  room.add("IMC", join(kCarol), {"IMB"});
  return room;
}

std::vector<std::string> names(const DagRoom& room, const std::vector<EventPtr>& events) {
  std::vector<std::string> out;
  for (const EventPtr& ev : events) out.push_back(room.name_of(ev->event_id()));
  return out;
}

std::vector<EventPtr> events(const DagRoom& room, const std::vector<std::string>& names) {
  std::vector<EventPtr> out;
  for (const std::string& n : names) out.push_back(room.event(n));
  return out;
}

EventIdSet ids(const DagRoom& room, const std::vector<std::string>& names) {
  EventIdSet out;
  for (const std::string& n : names) out.insert(room.id(n));
  return out;
}

using Names = std::vector<std::string>;

// An EventSource that reports some events of a room as rejected.
class RejectingSource : public EventSource {
 public:
  RejectingSource(const DagRoom& room, EventIdSet rejected)
      : room_(room), rejected_(std::move(rejected)) {}
  EventPtr find(std::string_view id) const override { return room_.find(id); }
  bool rejected(std::string_view id) const override { return rejected_.contains(std::string(id)); }

 private:
  const DagRoom& room_;
  EventIdSet rejected_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(state_res_order)

BOOST_AUTO_TEST_CASE(power_events_are_power_levels_join_rules_kicks_and_bans) {
  DagRoom room = public_room(test::v11());
  room.add("KICK", {kAlice, "m.room.member", kBob, R"({"membership":"leave"})"}, {"IMC"});
  room.add("LEAVE", {kCarol, "m.room.member", kCarol, R"({"membership":"leave"})"}, {"KICK"});
  room.add("BAN", {kAlice, "m.room.member", kCarol, R"({"membership":"ban"})"}, {"LEAVE"});
  room.add("T", topic(kAlice, "x"), {"BAN"});
  for (const char* yes : {"PL1", "JR", "KICK", "BAN"}) {
    BOOST_TEST(state_res::is_power_event(*room.event(yes)), yes);
  }
  for (const char* no : {"CREATE", "IMA", "IMB", "LEAVE", "T"}) {
    BOOST_TEST(!state_res::is_power_event(*room.event(no)), no);
  }
}

BOOST_AUTO_TEST_CASE(sender_power_level_comes_from_the_events_own_auth_events) {
  for (const RoomVersion* v : {&test::v10(), &test::v11(), &test::v12()}) {
    DagRoom room(*v, kAlice);
    room.add("IMA", join(kAlice), {"CREATE"});
    // Before any power levels event: the creator has 100, everyone else 0.
    room.add("JR", {kAlice, "m.room.join_rules", "", R"({"join_rule":"public"})"}, {"IMA"});
    room.add("IMB", join(kBob), {"JR"});
    int64_t creator = v->creators_privileged ? kCreatorPowerLevel : 100;
    BOOST_TEST(state_res::sender_power_level(*room.event("JR"), *v, room) == creator);
    BOOST_TEST(state_res::sender_power_level(*room.event("IMB"), *v, room) == 0);
    room.add("PL", power_levels(*v, "\"" + kBob + "\":50", kAlice), {"IMB"});
    room.add("TB", topic(kBob, "b"), {"PL"});
    room.add("IMC", join(kCarol), {"TB"});
    BOOST_TEST(state_res::sender_power_level(*room.event("TB"), *v, room) == 50);
    BOOST_TEST(state_res::sender_power_level(*room.event("IMC"), *v, room) == 0);
    BOOST_TEST(state_res::sender_power_level(*room.event("PL"), *v, room) == creator);
  }
}

BOOST_AUTO_TEST_CASE(power_order_prefers_power_then_time_then_event_id) {
  DagRoom room = public_room(test::v11());
  room.add("PL2", power_levels(test::v11(), "\"" + kBob + "\":50"), {"IMC"});
  // Concurrent, unrelated power events: Bob's join rule (power 50) is sent before Alice's
  // (power 100) but sorts after it.
  room.add("JRB", {kBob, "m.room.join_rules", "", R"({"join_rule":"invite"})"}, {"PL2"});
  room.add("JRA", {kAlice, "m.room.join_rules", "", R"({"join_rule":"knock"})"}, {"PL2"});
  room.add("JRA2", {kAlice, "m.room.join_rules", "", R"({"join_rule":"public"})"}, {"PL2"});
  auto full = ids(room, {"JRB", "JRA", "JRA2"});
  auto sorted = state_res::reverse_topological_power_order(events(room, {"JRB", "JRA2", "JRA"}),
                                                           full, test::v11(), room);
  BOOST_TEST(names(room, sorted) == (Names{"JRA", "JRA2", "JRB"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(power_order_puts_auth_events_first_whatever_their_power) {
  DagRoom room = public_room(test::v11());
  room.add("PL2", power_levels(test::v11(), "\"" + kBob + "\":50"), {"IMC"});
  // Bob (50) changes the power levels; Alice (100) then kicks Carol citing Bob's power levels.
  room.add("PLB", power_levels(test::v11(), "\"" + kBob + "\":50,\"" + kCarol + "\":10", kBob),
           {"PL2"});
  room.add("KICK", {kAlice, "m.room.member", kCarol, R"({"membership":"leave"})"}, {"PLB"});
  auto full = ids(room, {"PL2", "PLB", "KICK"});
  // Only the power events are given: their auth events in the full conflicted set join them.
  auto sorted =
      state_res::reverse_topological_power_order(events(room, {"KICK"}), full, test::v11(), room);
  BOOST_TEST(names(room, sorted) == (Names{"PL2", "PLB", "KICK"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(mainline_order_puts_events_on_older_power_levels_first) {
  for (const RoomVersion* v : {&test::v11(), &test::v12()}) {
    DagRoom room(*v, kAlice);
    room.add("IMA", join(kAlice), {"CREATE"});
    room.add("T0", topic(kAlice, "no power levels yet"), {"IMA"});
    room.add("PL1", power_levels(*v, ""), {"T0"});
    room.add("T1", topic(kAlice, "on PL1"), {"PL1"});
    room.add("PL2", power_levels(*v, "\"" + kBob + "\":1"), {"T1"});
    room.add("T2a", topic(kAlice, "on PL2"), {"PL2"});
    room.add("PLx", power_levels(*v, "\"" + kBob + "\":2"), {"PL2"});  // off the mainline
    room.add("T2b", topic(kAlice, "on PLx"), {"PLx"});
    room.add("PL3", power_levels(*v, "\"" + kBob + "\":3"), {"T2a"});
    room.add("T3", topic(kAlice, "on PL3"), {"PL3"});
    // Given in reverse: T0 cites no power levels (infinitely far), T1 sits on PL1; T2a on PL2;
    // T2b's power levels PLx is off the mainline but its parent PL2 is on it, and T2b was sent
    // after T2a; T3 on PL3, the mainline's head.
    auto sorted = state_res::mainline_order(events(room, {"T3", "T2b", "T2a", "T1", "T0"}),
                                            room.event("PL3"), room);
    BOOST_TEST(names(room, sorted) == (Names{"T0", "T1", "T2a", "T2b", "T3"}),
               boost::test_tools::per_element());
    // Without resolved power levels, the timestamps decide.
    auto by_time =
        state_res::mainline_order(events(room, {"T3", "T1", "T2b", "T0"}), nullptr, room);
    BOOST_TEST(names(room, by_time) == (Names{"T0", "T1", "T2b", "T3"}),
               boost::test_tools::per_element());
  }
}

BOOST_AUTO_TEST_CASE(iterative_auth_checks_apply_only_allowed_events) {
  for (const RoomVersion* v : {&test::v10(), &test::v11(), &test::v12()}) {
    DagRoom room = public_room(*v);
    room.add("TC", topic(kCarol, "too low"), {"IMC"}, false);  // refused at its own state too
    room.add("PL2", power_levels(*v, "\"" + kCarol + "\":50"), {"IMC"});
    room.add("TC2", topic(kCarol, "carol"), {"PL2"});
    room.add("BAN", {kAlice, "m.room.member", kCarol, R"({"membership":"ban"})"}, {"IMC"});
    // On the state after BAN, Carol's topic fails (she is banned); from nothing, every key comes
    // from the events' own auth events, so PL2 and then Carol's topic pass.
    const StateIds& after_ban = room.state_after("BAN");
    StateIds on_ban =
        state_res::iterative_auth_checks(*v, events(room, {"PL2", "TC2"}), after_ban, room);
    BOOST_TEST(on_ban.at({"m.room.power_levels", ""}) == room.id("PL2"));
    BOOST_TEST(!on_ban.contains({"m.room.topic", ""}), room.describe(on_ban));
    StateIds from_nothing =
        state_res::iterative_auth_checks(*v, events(room, {"PL2", "TC2"}), {}, room);
    BOOST_TEST(from_nothing.size() == 2u, room.describe(from_nothing));
    BOOST_TEST(from_nothing.at({"m.room.topic", ""}) == room.id("TC2"));
  }
}

BOOST_AUTO_TEST_CASE(iterative_auth_checks_ignore_rejected_auth_events) {
  DagRoom room = public_room(test::v11());
  room.add("PL2", power_levels(test::v11(), "\"" + kCarol + "\":50"), {"IMC"});
  room.add("TC", topic(kCarol, "carol"), {"PL2"});
  // With PL2 rejected, Carol's topic has no power levels granting her 50.
  RejectingSource source(room, ids(room, {"PL2"}));
  StateIds state = state_res::iterative_auth_checks(test::v11(), events(room, {"TC"}), {}, source);
  BOOST_TEST(state.empty(), room.describe(state));
  StateIds with_pl2 = {{{"m.room.power_levels", ""}, room.id("PL2")}};
  state = state_res::iterative_auth_checks(test::v11(), events(room, {"TC"}), with_pl2, source);
  BOOST_TEST(!state.contains({"m.room.topic", ""}), room.describe(state));
  state = state_res::iterative_auth_checks(test::v11(), events(room, {"TC"}), {}, room);
  BOOST_TEST(state.contains({"m.room.topic", ""}), room.describe(state));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::rooms
