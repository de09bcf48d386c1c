// Unit tests of homeserver/rooms/state_at_event.cpp and the state group writes of
// event_store.cpp: the state before an event of a forked room, computed from the stored states
// after its prev events, equals the resolution of the pure algorithm, and is kept as a group.
#include "homeserver/rooms/state_at_event.h"

#include <boost/test/unit_test.hpp>

#include "homeserver/rooms/event_store.h"
#include "tests/unit/state_res/dag_room.h"
#include "tests/unit/support/test_store.h"

namespace haven::rooms {

using test::DagRoom;
using test::EventSpec;
using test::join;

namespace {

const std::string kAlice = "@alice:a.org";
const std::string kBob = "@bob:b.org";

// A forked room: Bob joins; then Alice demotes... Alice's fork changes the join rule to invite
// and sets a topic, Bob's fork sets the topic and Bob's name; M merges them.
DagRoom forked_room(const RoomVersion& v) {
  DagRoom room(v, kAlice);
  std::string users = v.creators_privileged ? "" : "\"" + kAlice + "\":100,";
  room.add("IMA", join(kAlice), {"CREATE"});
  room.add("PL",
           {kAlice, "m.room.power_levels", "", "{\"users\":{" + users + "\"" + kBob + "\":50}}"},
           {"IMA"});
  room.add("JR", {kAlice, "m.room.join_rules", "", R"({"join_rule":"public"})"}, {"PL"});
  room.add("IMB", join(kBob), {"JR"});
  room.add("JR2", {kAlice, "m.room.join_rules", "", R"({"join_rule":"invite"})"}, {"IMB"});
  room.add("TA", {kAlice, "m.room.topic", "", R"({"topic":"a"})"}, {"JR2"});
  room.add("TB", {kBob, "m.room.topic", "", R"({"topic":"b"})"}, {"IMB"});
  room.add("NB", {kBob, "m.room.member", kBob, R"({"membership":"join","displayname":"B"})"},
           {"TB"});
  room.add("M", {kAlice, "m.room.message", std::nullopt, R"({"body":"merged"})"}, {"TA", "NB"});
  return room;
}

// Stores the room's events in this order, each on the state group before it (computed by
// state_group_before_event from its stored prev events).
void store_events(haven::test::TestStore& db, const DagRoom& room,
                  const std::vector<std::string>& order) {
  db.write([&](storage::WriteTxn& txn) {
    RoomRecord record;
    record.room_id = room.room_id();
    record.version = std::string(room.version().id);
    for (const std::string& name : order) {
      const EventPtr& ev = room.event(name);
      if (!ev->prev_events().empty()) {
        auto before = state_group_before_event(txn, room.version(), ev->prev_events());
        BOOST_REQUIRE_MESSAGE(before.ok(),
                              name << ": " << (before.ok() ? "" : before.error().message));
        record.state_group = *before;
        auto s = put_state_group_before(txn, ev->event_id(), *before);
        if (!s.ok()) return s;
      }
      storage::Status status;
      append_event(txn, record, *ev, &status);
      if (!status.ok()) return status;
    }
    return storage::Status::ok_status();
  });
}

const std::vector<std::string> kOrder = {"CREATE", "IMA", "PL", "JR", "IMB",
                                         "JR2",    "TA",  "TB", "NB", "M"};

}  // namespace

BOOST_AUTO_TEST_SUITE(state_at_event)

BOOST_AUTO_TEST_CASE(state_before_a_merge_is_the_resolution_of_the_prev_events_states) {
  for (const RoomVersion* v : {&test::v10(), &test::v11(), &test::v12()}) {
    DagRoom room = forked_room(*v);
    haven::test::TestStore db;
    store_events(db, room, kOrder);
    auto txn = db.read();
    StateIds want = room.state_before({"TA", "NB"});
    auto got = state_before_event(*txn, *v, room.event("M")->prev_events());
    BOOST_REQUIRE(got.ok());
    BOOST_TEST((*got == want), "v" << v->id << ": " << room.describe(*got));
    // The merge's stored group (the state before and after the message) holds the same state.
    auto group = state_group_before(*txn, room.id("M"));
    BOOST_REQUIRE(group);
    BOOST_TEST((state_ids_at_group(*txn, *group) == want));
    BOOST_TEST(get_event(*txn, room.id("M"))->state_group == *group);
    // Alice's invite-only rule (a power event) wins; Bob's topic is the later one on the
    // mainline's same power levels, so it wins; Bob's name change is kept.
    BOOST_TEST(room.name_of(want.at({"m.room.join_rules", ""})) == "JR2");
    BOOST_TEST(room.name_of(want.at({"m.room.topic", ""})) == "TB");
    BOOST_TEST(room.name_of(want.at({"m.room.member", kBob})) == "NB");
  }
}

BOOST_AUTO_TEST_CASE(state_before_a_single_prev_event_is_its_state_after) {
  DagRoom room = forked_room(test::v11());
  haven::test::TestStore db;
  store_events(db, room, kOrder);
  auto txn = db.read();
  auto got = state_before_event(*txn, test::v11(), {room.id("NB")});
  BOOST_REQUIRE(got.ok());
  BOOST_TEST((*got == room.state_after("NB")));
  // TB's state before is IMB's group itself: no new group for a single prev event.
  BOOST_TEST(*state_group_before(*txn, room.id("TB")) ==
             get_event(*txn, room.id("IMB"))->state_group);
}

BOOST_AUTO_TEST_CASE(unknown_or_missing_prev_events_are_refused) {
  DagRoom room = forked_room(test::v11());
  haven::test::TestStore db;
  store_events(db, room, {"CREATE", "IMA"});
  auto txn = db.read();
  auto unknown = state_before_event(*txn, test::v11(), {room.id("IMA"), room.id("PL")});
  BOOST_REQUIRE(!unknown.ok());
  BOOST_TEST(unknown.error().errcode == "M_NOT_FOUND");
  auto none = state_before_event(*txn, test::v11(), {});
  BOOST_REQUIRE(!none.ok());
  BOOST_TEST(none.error().errcode == "M_BAD_JSON");
}

BOOST_AUTO_TEST_CASE(state_groups_store_deltas_and_full_states) {
  haven::test::TestStore db;
  StateIds base = {{{"a", ""}, "$1"}, {{"b", ""}, "$2"}};
  StateIds grown = {{{"a", ""}, "$1"}, {{"b", ""}, "$3"}, {{"c", "x"}, "$4"}};
  StateIds shrunk = {{{"a", ""}, "$1"}};
  uint64_t g0 = 0, g1 = 0, g2 = 0;
  db.write([&](storage::WriteTxn& txn) {
    storage::Status s;
    g0 = put_state_group(txn, 0, base, &s);
    if (s.ok()) g1 = put_state_group(txn, g0, grown, &s);
    if (s.ok()) g2 = put_state_group(txn, g1, shrunk, &s);  // drops keys: a full group
    return s;
  });
  auto txn = db.read();
  BOOST_TEST((state_ids_at_group(*txn, g0) == base));
  BOOST_TEST((state_ids_at_group(*txn, g1) == grown));
  BOOST_TEST((state_ids_at_group(*txn, g2) == shrunk));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::rooms
