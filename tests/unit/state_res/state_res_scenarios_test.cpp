// The classic state resolution scenarios (the races state resolution v2 was designed for, as
// Synapse's tests/state/test_v2.py describes them), built here as DAGs of real signed events,
// for rooms v10, v11 (v2) and v12 (v2.1); and the two state resets MSC4297 shows v2.1 fixes.
#include <boost/test/unit_test.hpp>
#include <functional>
#include <set>

#include "homeserver/rooms/state_res.h"
#include "tests/unit/state_res/dag_room.h"

namespace haven::rooms {

using test::DagRoom;
using test::EventSpec;
using test::join;

namespace {

const std::string kAlice = "@alice:example.com";
const std::string kBob = "@bob:example.com";
const std::string kCharlie = "@charlie:example.com";
const std::string kEvelyn = "@evelyn:example.com";
const std::string kZara = "@zara:example.com";

const std::vector<const RoomVersion*>& all_versions() {
  static const std::vector<const RoomVersion*> v = {&test::v10(), &test::v11(), &test::v12()};
  return v;
}

// power_levels content: `users` plus Alice at 100, except in v12 where the creator's power is
// implied (and may not be listed).
std::string pl(const RoomVersion& v, const std::string& users, const std::string& extra = "") {
  std::string all =
      v.creators_privileged ? users : "\"" + kAlice + "\":100" + (users.empty() ? "" : ",") + users;
  return "{\"users\":{" + all + "}" + (extra.empty() ? "" : "," + extra) + "}";
}

std::string user_level(const std::string& user, int level) {
  return "\"" + user + "\":" + std::to_string(level);
}

EventSpec member(const std::string& sender, const std::string& target, const std::string& m) {
  return {sender, "m.room.member", target, "{\"membership\":\"" + m + "\"}"};
}
EventSpec topic(const std::string& sender, const std::string& text) {
  return {sender, "m.room.topic", "", "{\"topic\":\"" + text + "\"}"};
}
EventSpec message(const std::string& sender) {
  return {sender, "m.room.message", std::nullopt, R"({"body":"hi"})"};
}

// The events before the fork, as in Synapse's tests: Alice creates the room, joins, sets power
// levels and a public join rule; Bob, Charlie and Zara join; Zara says something (START).
void add_initial(DagRoom& room) {
  const RoomVersion& v = room.version();
  room.add("IMA", join(kAlice), {"CREATE"});
  room.add("IPOWER", {kAlice, "m.room.power_levels", "", pl(v, "")}, {"IMA"});
  room.add("IJR", {kAlice, "m.room.join_rules", "", R"({"join_rule":"public"})"}, {"IPOWER"});
  room.add("IMB", join(kBob), {"IJR"});
  room.add("IMC", join(kCharlie), {"IMB"});
  room.add("IMZ", join(kZara), {"IMC"});
  room.add("START", message(kZara), {"IMZ"});
}

struct Step {
  std::string name;
  EventSpec spec;
};

// Adds `steps` after START, each after the events the chains name: a chain {A, B, C} makes B a
// prev event of A and C one of B (Synapse's notation). The steps are built in a topological
// order, ties by name, so their origin_server_ts follow that order. END, a message of Zara's
// after the chains' heads, is added last.
void add_steps(DagRoom& room, const std::vector<Step>& steps,
               const std::vector<std::vector<std::string>>& chains) {
  std::map<std::string, std::set<std::string>> prevs;
  for (const auto& chain : chains) {
    for (size_t i = 0; i + 1 < chain.size(); ++i) prevs[chain[i]].insert(chain[i + 1]);
  }
  std::map<std::string, const Step*> by_name;
  for (const Step& s : steps) by_name[s.name] = &s;
  by_name["END"] = nullptr;
  std::set<std::string> done = {"START", "IMZ", "IMC", "IMB", "IJR", "IPOWER", "IMA", "CREATE"};
  while (done.size() < by_name.size() + 8) {
    bool progressed = false;
    for (const auto& [name, step] : by_name) {
      if (done.contains(name)) continue;
      bool ready = std::all_of(prevs[name].begin(), prevs[name].end(),
                               [&](const std::string& p) { return done.contains(p); });
      if (!ready) continue;
      std::vector<std::string> p(prevs[name].begin(), prevs[name].end());
      room.add(name, step ? step->spec : message(kZara), p);
      done.insert(name);
      progressed = true;
      break;
    }
    BOOST_REQUIRE_MESSAGE(progressed, "the chains have a cycle or name an unknown event");
  }
}

// The state at END (after it: END is a message) restricted to the keys that changed since START
// or that `expected` names, compared with `expected` (event names).
void check_end_state(const DagRoom& room, const std::vector<std::string>& expected) {
  StateIds want;
  for (const std::string& name : expected) {
    const EventPtr& ev = room.event(name);
    want[{ev->type(), *ev->state_key()}] = ev->event_id();
  }
  const StateIds& start = room.state_after("START");
  StateIds got;
  for (const auto& [key, id] : room.state_after("END")) {
    auto s = start.find(key);
    if (want.contains(key) || s == start.end() || s->second != id) got[key] = id;
  }
  BOOST_TEST(got == want, "v" << room.version().id << ": got " << room.describe(got) << ", want "
                              << room.describe(want));
}

void run(const std::function<std::vector<Step>(const RoomVersion&)>& steps,
         const std::vector<std::vector<std::string>>& chains,
         const std::function<std::vector<std::string>(const RoomVersion&)>& expected) {
  for (const RoomVersion* v : all_versions()) {
    DagRoom room(*v, kAlice);
    add_initial(room);
    add_steps(room, steps(*v), chains);
    check_end_state(room, expected(*v));
  }
}

std::vector<std::string> same(const std::vector<std::string>& e) { return e; }

}  // namespace

BOOST_AUTO_TEST_SUITE(state_res_scenarios)

// Alice bans Bob while Bob, concurrently, re-sends the power levels: the ban stands and Bob's
// power levels event is not applied.
BOOST_AUTO_TEST_CASE(ban_beats_a_concurrent_power_levels_change_by_the_banned_user) {
  run(
      [](const RoomVersion& v) {
        return std::vector<Step>{
            {"PA", {kAlice, "m.room.power_levels", "", pl(v, user_level(kBob, 50))}},
            {"MA", join(kAlice)},
            {"MB", member(kAlice, kBob, "ban")},
            {"PB", {kBob, "m.room.power_levels", "", pl(v, user_level(kBob, 50))}},
        };
      },
      {{"END", "MB", "MA", "PA", "START"}, {"END", "PB", "PA"}},
      [](const RoomVersion&) {
        return same({"PA", "MA", "MB"});
      });
}

// Alice makes the room invite-only while Evelyn joins: the join rule applies first, so the
// join is not accepted.
BOOST_AUTO_TEST_CASE(join_rule_change_beats_a_concurrent_join) {
  run(
      [](const RoomVersion&) {
        return std::vector<Step>{
            {"JR", {kAlice, "m.room.join_rules", "", R"({"join_rule":"invite"})"}},
            {"ME", join(kEvelyn)},
        };
      },
      {{"END", "JR", "START"}, {"END", "ME", "START"}},
      [](const RoomVersion&) { return same({"JR"}); });
}

// Bob gives Charlie power, Charlie then lowers himself; a fork only saw Alice's power levels.
// The newest of the chain wins.
BOOST_AUTO_TEST_CASE(offtopic_power_levels_chain_wins) {
  run(
      [](const RoomVersion& v) {
        return std::vector<Step>{
            {"PA", {kAlice, "m.room.power_levels", "", pl(v, user_level(kBob, 50))}},
            {"PB",
             {kBob, "m.room.power_levels", "",
              pl(v, user_level(kBob, 50) + "," + user_level(kCharlie, 50))}},
            {"PC",
             {kCharlie, "m.room.power_levels", "",
              pl(v, user_level(kBob, 50) + "," + user_level(kCharlie, 0))}},
        };
      },
      {{"END", "PC", "PB", "PA", "START"}, {"END", "PA"}},
      [](const RoomVersion&) { return same({"PC"}); });
}

// Alice demotes Bob while Bob re-sends power levels and sets a topic: Alice's power levels
// and her topic win, Bob's topic is not applied.
BOOST_AUTO_TEST_CASE(demotion_beats_the_demoted_users_topic) {
  run(
      [](const RoomVersion& v) {
        return std::vector<Step>{
            {"T1", topic(kAlice, "t1")},
            {"PA1", {kAlice, "m.room.power_levels", "", pl(v, user_level(kBob, 50))}},
            {"T2", topic(kAlice, "t2")},
            {"PA2", {kAlice, "m.room.power_levels", "", pl(v, user_level(kBob, 0))}},
            {"PB", {kBob, "m.room.power_levels", "", pl(v, user_level(kBob, 50))}},
            {"T3", topic(kBob, "t3")},
        };
      },
      {{"END", "PA2", "T2", "PA1", "T1", "START"}, {"END", "T3", "PB", "PA1"}},
      [](const RoomVersion&) {
        return same({"PA2", "T2"});
      });
}

// Bob sets a topic, then is banned; a fork still has the first topic. Bob's topic is authorised
// by power levels both forks agree on, and the mainline puts it after T1, so it stands.
BOOST_AUTO_TEST_CASE(topic_of_a_later_banned_user_is_not_reset) {
  run(
      [](const RoomVersion& v) {
        return std::vector<Step>{
            {"T1", topic(kAlice, "t1")},
            {"PA", {kAlice, "m.room.power_levels", "", pl(v, user_level(kBob, 50))}},
            {"T2", topic(kBob, "t2")},
            {"MB", member(kAlice, kBob, "ban")},
        };
      },
      {{"END", "MB", "T2", "PA", "T1", "START"}, {"END", "T1"}},
      [](const RoomVersion&) {
        return same({"T1", "MB", "PA"});
      });
}

// As in demotion_beats_the_demoted_users_topic, with a message merging the forks and a later
// topic by Alice on top: Alice's newest topic and power levels win.
BOOST_AUTO_TEST_CASE(topic_after_a_merge_wins) {
  run(
      [](const RoomVersion& v) {
        return std::vector<Step>{
            {"T1", topic(kAlice, "t1")},
            {"PA1", {kAlice, "m.room.power_levels", "", pl(v, user_level(kBob, 50))}},
            {"T2", topic(kAlice, "t2")},
            {"PA2", {kAlice, "m.room.power_levels", "", pl(v, user_level(kBob, 0))}},
            {"PB", {kBob, "m.room.power_levels", "", pl(v, user_level(kBob, 50))}},
            {"T3", topic(kBob, "t3")},
            {"MZ1", message(kZara)},
            {"T4", topic(kAlice, "t4")},
        };
      },
      {{"END", "T4", "MZ1", "PA2", "T2", "PA1", "T1", "START"}, {"END", "MZ1", "T3", "PB", "PA1"}},
      [](const RoomVersion&) {
        return same({"T4", "PA2"});
      });
}

// The mainline decides between topics: T3 cites the newest power levels (PA2), T4 an older
// one (PB's parent PA1), so T3 wins although T4 was sent later.
BOOST_AUTO_TEST_CASE(mainline_picks_the_topic_based_on_newer_power_levels) {
  run(
      [](const RoomVersion& v) {
        std::string pl_100 = "\"events\":{\"m.room.power_levels\":100}";
        return std::vector<Step>{
            {"T1", topic(kAlice, "t1")},
            {"PA1", {kAlice, "m.room.power_levels", "", pl(v, user_level(kBob, 50))}},
            {"T2", topic(kAlice, "t2")},
            {"PA2", {kAlice, "m.room.power_levels", "", pl(v, user_level(kBob, 50), pl_100)}},
            {"PB", {kBob, "m.room.power_levels", "", pl(v, user_level(kBob, 50))}},
            {"T3", topic(kBob, "t3")},
            {"T4", topic(kAlice, "t4")},
        };
      },
      {{"END", "T3", "PA2", "T2", "PA1", "T1", "START"}, {"END", "T4", "PB", "PA1"}},
      [](const RoomVersion&) {
        return same({"T3", "PA2"});
      });
}

// Two users join concurrently: both joins are kept.
BOOST_AUTO_TEST_CASE(concurrent_joins_are_both_kept) {
  run(
      [](const RoomVersion&) {
        return std::vector<Step>{{"JE", join(kEvelyn)}, {"JB", join(kBob)}};
      },
      {{"END", "JE", "START"}, {"END", "JB", "START"}},
      [](const RoomVersion&) {
        return same({"JE", "JB"});
      });
}

// MSC4297 "Problem A": Alice made the room invite-only and left; one fork's state, obtained by
// a partial synchronisation, still holds the older public join rule. v2 replays both join
// rules on the unconflicted state, where Alice has left, so both fail and the room loses its
// join rule; v2.1 replays them on their own auth events and keeps the invite-only rule.
BOOST_AUTO_TEST_CASE(stale_join_rule_after_the_setter_left_resets_only_in_v2) {
  for (const RoomVersion* v : all_versions()) {
    DagRoom room(*v, kAlice);
    room.add("IMA", join(kAlice), {"CREATE"});
    room.add("PL", {kAlice, "m.room.power_levels", "", pl(*v, "")}, {"IMA"});
    room.add("JR1", {kAlice, "m.room.join_rules", "", R"({"join_rule":"public"})"}, {"PL"});
    room.add("IMB", join(kBob), {"JR1"});
    room.add("IMC", join(kCharlie), {"IMB"});
    room.add("JR2", {kAlice, "m.room.join_rules", "", R"({"join_rule":"invite"})"}, {"IMC"});
    room.add("LA", member(kAlice, kAlice, "leave"), {"JR2"});
    room.add("BN", {kBob, "m.room.member", kBob, R"({"membership":"join","displayname":"B"})"},
             {"LA"});
    room.add("CN",
             {kCharlie, "m.room.member", kCharlie, R"({"membership":"join","displayname":"C"})"},
             {"LA"});
    StateIds stale = room.state_after("CN");
    stale[{"m.room.join_rules", ""}] = room.id("JR1");
    auto resolved = resolve_state(*v, {room.state_after("BN"), stale}, room);
    BOOST_REQUIRE(resolved.ok());
    auto jr = resolved->find({"m.room.join_rules", ""});
    if (v->state_res == StateResAlgorithm::kV2) {
      BOOST_TEST((jr == resolved->end()), "v" << v->id << ": " << room.describe(*resolved));
    } else {
      BOOST_TEST((jr != resolved->end() && jr->second == room.id("JR2")),
                 "v" << v->id << ": " << room.describe(*resolved));
    }
    BOOST_TEST(resolved->at({"m.room.member", kBob}) == room.id("BN"));
    BOOST_TEST(resolved->at({"m.room.member", kCharlie}) == room.id("CN"));
    BOOST_TEST(resolved->at({"m.room.member", kAlice}) == room.id("LA"));
  }
}

// MSC4297 "Problem B": Alice promotes Bob (PL2), Bob promotes Charlie (PL3); one fork's state
// holds the original power levels (PL1). The auth difference misses PL2, which both forks'
// auth chains hold, so v2 replays PL3 on PL1, refuses it and resets the power levels to PL1;
// v2.1 adds PL2 as part of the conflicted subgraph and keeps PL3.
BOOST_AUTO_TEST_CASE(stale_power_levels_reset_only_in_v2) {
  for (const RoomVersion* v : all_versions()) {
    DagRoom room(*v, kAlice);
    room.add("IMA", join(kAlice), {"CREATE"});
    room.add("PL1", {kAlice, "m.room.power_levels", "", pl(*v, "")}, {"IMA"});
    room.add("JR", {kAlice, "m.room.join_rules", "", R"({"join_rule":"public"})"}, {"PL1"});
    room.add("IMB", join(kBob), {"JR"});
    room.add("IMC", join(kCharlie), {"IMB"});
    room.add("PL2", {kAlice, "m.room.power_levels", "", pl(*v, user_level(kBob, 50))}, {"IMC"});
    room.add("PL3",
             {kBob, "m.room.power_levels", "",
              pl(*v, user_level(kBob, 50) + "," + user_level(kCharlie, 50))},
             {"PL2"});
    room.add("IME", join(kEvelyn), {"PL3"});
    room.add("EN",
             {kEvelyn, "m.room.member", kEvelyn, R"({"membership":"join","displayname":"E"})"},
             {"IME"});
    room.add("IMZ", join(kZara), {"PL3"});
    StateIds stale = room.state_after("EN");
    stale[{"m.room.power_levels", ""}] = room.id("PL1");
    auto resolved = resolve_state(*v, {stale, room.state_after("IMZ")}, room);
    BOOST_REQUIRE(resolved.ok());
    std::string want = v->state_res == StateResAlgorithm::kV2 ? "PL1" : "PL3";
    BOOST_TEST(room.name_of(resolved->at({"m.room.power_levels", ""})) == want,
               "v" << v->id << ": " << room.describe(*resolved));
    BOOST_TEST(resolved->at({"m.room.member", kEvelyn}) == room.id("EN"));
    BOOST_TEST(resolved->at({"m.room.member", kZara}) == room.id("IMZ"));
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::rooms
