// Unit tests of homeserver/rooms/state_res_graph.cpp: the conflicted/unconflicted split, auth
// chains, the auth difference and v2.1's conflicted state subgraph.
#include <boost/test/unit_test.hpp>

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

EventSpec power_levels(const RoomVersion& v, const std::string& users) {
  std::string alice = v.creators_privileged ? "" : "\"" + kAlice + "\":100";
  std::string sep = alice.empty() || users.empty() ? "" : ",";
  return {kAlice, "m.room.power_levels", "", "{\"users\":{" + alice + sep + users + "}}"};
}

// Alice's room: IMA, PL1, JR (public), Bob joins (IMB), Carol joins (IMC), PL2 gives Bob 50,
// PL3 (by Bob) gives Carol 50. A linear history.
DagRoom promotions_room(const RoomVersion& v) {
  DagRoom room(v, kAlice);
  room.add("IMA", join(kAlice), {"CREATE"});
  room.add("PL1", power_levels(v, ""), {"IMA"});
  room.add("JR", {kAlice, "m.room.join_rules", "", R"({"join_rule":"public"})"}, {"PL1"});
  room.add("IMB", join(kBob), {"JR"});
  room.add("IMC", join(kCarol), {"IMB"});
  room.add("PL2", power_levels(v, "\"" + kBob + "\":50"), {"IMC"});
  EventSpec pl3 = power_levels(v, "\"" + kBob + "\":50,\"" + kCarol + "\":50");
  pl3.sender = kBob;
  room.add("PL3", pl3, {"PL2"});
  return room;
}

EventIdSet ids(const DagRoom& room, const std::vector<std::string>& names) {
  EventIdSet out;
  for (const std::string& n : names) out.insert(room.id(n));
  return out;
}

std::string names(const DagRoom& room, const EventIdSet& set) {
  std::string out;
  for (const std::string& id : set) out += room.name_of(id) + " ";
  return out;
}

// An EventSource that knows only some of a room's events.
class PartialSource : public EventSource {
 public:
  PartialSource(const DagRoom& room, EventIdSet hidden) : room_(room), hidden_(std::move(hidden)) {}
  EventPtr find(std::string_view id) const override {
    return hidden_.contains(std::string(id)) ? nullptr : room_.find(id);
  }

 private:
  const DagRoom& room_;
  EventIdSet hidden_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(state_res_graph)

BOOST_AUTO_TEST_CASE(split_keeps_only_keys_equal_in_every_set_unconflicted) {
  StateIds a = {{{"m.room.create", ""}, "$c"}, {{"m.room.topic", ""}, "$t1"}, {{"x", ""}, "$x"}};
  StateIds b = {{{"m.room.create", ""}, "$c"}, {{"m.room.topic", ""}, "$t2"}};
  StateIds c = {{{"m.room.create", ""}, "$c"}, {{"m.room.topic", ""}, "$t1"}, {{"x", ""}, "$x"}};
  auto split = state_res::split_conflicts({a, b, c});
  BOOST_TEST(split.unconflicted.size() == 1u);
  BOOST_TEST(split.unconflicted.at({"m.room.create", ""}) == "$c");
  // A key missing from one set is conflicted even where the others agree.
  BOOST_TEST((split.conflicted.at({"x", ""}) == EventIdSet{"$x"}));
  BOOST_TEST((split.conflicted.at({"m.room.topic", ""}) == EventIdSet{"$t1", "$t2"}));
  BOOST_TEST((split.conflicted_ids() == EventIdSet{"$t1", "$t2", "$x"}));
  BOOST_TEST(state_res::split_conflicts({a}).conflicted.empty());
  BOOST_TEST(state_res::split_conflicts({a, a}).unconflicted == a);
}

BOOST_AUTO_TEST_CASE(auth_chain_walks_auth_events_recursively) {
  DagRoom room(test::v11(), kAlice);
  room.add("IMA", join(kAlice), {"CREATE"});
  room.add("PL1", power_levels(test::v11(), ""), {"IMA"});
  room.add("T", {kAlice, "m.room.topic", "", R"({"topic":"x"})"}, {"PL1"});
  auto chain = state_res::auth_chain(room, {room.id("T")}, false);
  BOOST_REQUIRE(chain.ok());
  BOOST_TEST(*chain == ids(room, {"CREATE", "IMA", "PL1"}), names(room, *chain));
  auto with_start = state_res::auth_chain(room, {room.id("T")}, true);
  BOOST_TEST(*with_start == ids(room, {"CREATE", "IMA", "PL1", "T"}));
  // The walk does not enter events the caller already has the chains of.
  auto stopped = state_res::auth_chain(room, {room.id("T")}, true, ids(room, {"PL1"}));
  BOOST_TEST(*stopped == ids(room, {"CREATE", "IMA", "T"}), names(room, *stopped));
}

BOOST_AUTO_TEST_CASE(auth_chain_skips_unknown_events_and_is_bounded) {
  DagRoom room(test::v11(), kAlice);
  room.add("IMA", join(kAlice), {"CREATE"});
  room.add("PL1", power_levels(test::v11(), ""), {"IMA"});
  PartialSource without_join(room, ids(room, {"IMA"}));
  auto chain = state_res::auth_chain(without_join, {room.id("PL1")}, true);
  BOOST_REQUIRE(chain.ok());
  BOOST_TEST(*chain == ids(room, {"CREATE", "PL1"}), names(room, *chain));
  auto limited = state_res::auth_chain(room, {room.id("PL1")}, false, {}, 1);
  BOOST_REQUIRE(!limited.ok());
  BOOST_TEST(limited.error().errcode == "M_TOO_LARGE");
}

BOOST_AUTO_TEST_CASE(auth_difference_holds_what_only_some_forks_reach) {
  for (const RoomVersion* v : {&test::v11(), &test::v12()}) {
    DagRoom room = promotions_room(*v);
    room.add("TB", {kBob, "m.room.topic", "", R"({"topic":"b"})"}, {"PL2"});
    room.add("TC", {kCarol, "m.room.topic", "", R"({"topic":"c"})"}, {"PL3"});
    auto diff = state_res::auth_difference(room, {room.state_after("TB"), room.state_after("TC")});
    BOOST_REQUIRE(diff.ok());
    // TC's fork has PL3 (and TC itself); TB's fork reaches PL2 too, through TB's auth events.
    BOOST_TEST(*diff == ids(room, {"PL3", "TB", "TC"}), names(room, *diff));
    BOOST_TEST(state_res::auth_difference(room, {room.state_after("TB")})->empty());
  }
}

BOOST_AUTO_TEST_CASE(conflicted_subgraph_holds_the_paths_between_conflicted_events) {
  for (const RoomVersion* v : {&test::v11(), &test::v12()}) {
    DagRoom room = promotions_room(*v);
    auto sub = state_res::conflicted_subgraph(room, ids(room, {"PL1", "PL3"}));
    BOOST_REQUIRE(sub.ok());
    // PL3 -> PL2 -> PL1 and PL3 -> IMB (Bob's join) -> JR -> PL1; the create event, Alice's
    // and Carol's joins lie on no path between the two.
    BOOST_TEST(*sub == ids(room, {"PL1", "PL2", "PL3", "IMB", "JR"}), names(room, *sub));
    auto single = state_res::conflicted_subgraph(room, ids(room, {"PL2"}));
    BOOST_TEST(*single == ids(room, {"PL2"}), names(room, *single));
    BOOST_TEST(state_res::conflicted_subgraph(room, {})->empty());
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::rooms
