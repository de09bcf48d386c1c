// Generated forks: random DAGs of events from several servers (each event built on the resolved
// state before it and allowed by the auth rules there, as real servers build them), resolved
// at their forward extremities. Checks the properties every resolution must have: the same
// result whatever the order of the state sets, the unconflicted state kept, only known events
// of the right key, idempotence; and, where no one loses power or membership and the join rule
// stays public, a result whose every event passes the auth rules against the result itself.
// (That last property does not hold in general, by design of the algorithm: a topic whose
// sender's concurrent join lost to a join rule change keeps the topic, authorised by its own
// auth events; a demoted user's earlier event stays.)
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <random>
#include <set>

#include "homeserver/rooms/auth_rules.h"
#include "homeserver/rooms/state_res_steps.h"
#include "tests/unit/state_res/dag_room.h"

namespace haven::rooms {

using test::DagRoom;
using test::EventSpec;

namespace {

const std::vector<std::string> kUsers = {"@alice:a.org", "@bob:b.org", "@carol:c.org",
                                         "@dave:d.org", "@erin:e.org"};

enum class Profile {
  kMonotonic,  // joins, invites, topics, names and promotions by Alice
  kAnything,   // also join rule changes, leaves, kicks, bans, demotions, anyone's power levels
};

class ForkGenerator {
 public:
  ForkGenerator(const RoomVersion& v, uint32_t seed, Profile profile)
      : room_(v, kUsers[0]), rng_(seed), profile_(profile) {
    room_.add("e1", join(kUsers[0]), {"CREATE"});
    room_.add("e2", power_levels(kUsers[0], {}), {"e1"});
    room_.add("e3", {kUsers[0], "m.room.join_rules", "", R"({"join_rule":"public"})"}, {"e2"});
    tips_ = {"e3"};
    all_ = {"e1", "e2", "e3"};
  }

  // Adds `count` events (of at most 5 * count tries: the auth rules refuse some).
  void grow(int count) {
    int added = 0;
    for (int i = 0; i < 5 * count && added < count; ++i) {
      std::vector<std::string> prevs = pick_prevs();
      std::string name = "e" + std::to_string(all_.size() + 1);
      if (!room_.add(name, random_event(room_.state_before(prevs)), prevs, false)) continue;
      if (prevs.size() > 1) merges_.push_back(prevs);
      for (const std::string& p : prevs) tips_.erase(p);
      tips_.insert(name);
      all_.push_back(name);
      ++added;
    }
  }

  const DagRoom& room() const { return room_; }
  std::vector<StateIds> states_after(const std::vector<std::string>& names) const {
    std::vector<StateIds> out;
    for (const std::string& n : names) out.push_back(room_.state_after(n));
    return out;
  }
  std::vector<StateIds> tip_states() const {
    return states_after(std::vector<std::string>(tips_.begin(), tips_.end()));
  }
  // The prev events of every event that merged forks.
  const std::vector<std::vector<std::string>>& merges() const { return merges_; }

 private:
  static EventSpec join(const std::string& user) {
    return {user, "m.room.member", user, R"({"membership":"join"})"};
  }

  EventSpec power_levels(const std::string& sender, const std::map<std::string, int>& users) {
    std::string body;
    if (!room_.version().creators_privileged) body = "\"" + kUsers[0] + "\":100";
    for (const auto& [user, level] : users) {
      if (user == kUsers[0]) continue;
      body += (body.empty() ? "\"" : ",\"") + user + "\":" + std::to_string(level);
    }
    return {sender, "m.room.power_levels", "", "{\"users\":{" + body + "}}"};
  }

  // Usually the tips (a server that has seen everything merges them), else one of the last
  // few events (a server that has not seen the latest ones, making a fork).
  std::vector<std::string> pick_prevs() {
    if (rng_() % 3 == 0) return {all_[all_.size() - 1 - rng_() % std::min<size_t>(4, all_.size())]};
    std::vector<std::string> tips(tips_.begin(), tips_.end());
    std::shuffle(tips.begin(), tips.end(), rng_);
    if (tips.size() > 3) tips.resize(3);
    return tips;
  }

  // The users' levels in `state`'s power levels event.
  std::map<std::string, int> levels(const StateIds& state) {
    std::map<std::string, int> out;
    auto it = state.find({"m.room.power_levels", ""});
    if (it == state.end()) return out;
    const rapidjson::Value& users = room_.find(it->second)->content()["users"];
    for (auto& m : users.GetObject())
      out[m.name.GetString()] = static_cast<int>(m.value.GetInt64());
    return out;
  }

  EventSpec random_event(const StateIds& state) {
    const std::string& sender = kUsers[rng_() % kUsers.size()];
    const std::string& other = kUsers[rng_() % kUsers.size()];
    std::string n = std::to_string(rng_() % 1000);
    int choice = static_cast<int>(rng_() % (profile_ == Profile::kAnything ? 10 : 5));
    switch (choice) {
      case 0:
        return join(sender);
      case 1:
        return {sender, "m.room.member", other, R"({"membership":"invite"})"};
      case 2:
        return {sender, "m.room.topic", "", "{\"topic\":\"" + n + "\"}"};
      case 3:
        return {sender, "m.room.name", "", "{\"name\":\"" + n + "\"}"};
      case 4: {
        auto users = levels(state);
        users[other] = std::max(users[other], static_cast<int>(rng_() % 3) * 25);
        return power_levels(kUsers[0], users);
      }
      case 5:
        return {kUsers[0], "m.room.join_rules", "",
                rng_() % 2 ? R"({"join_rule":"public"})" : R"({"join_rule":"invite"})"};
      case 6:
        return {sender, "m.room.member", sender, R"({"membership":"leave"})"};
      case 7:
        return {sender, "m.room.member", other,
                rng_() % 2 ? R"({"membership":"ban"})" : R"({"membership":"leave"})"};
      case 8: {
        auto users = levels(state);
        users[other] = static_cast<int>(rng_() % 4) * 25;
        return power_levels(sender, users);
      }
      default:
        return {sender, "m.room.member", sender,
                "{\"membership\":\"join\",\"displayname\":\"" + n + "\"}"};
    }
  }

  DagRoom room_;
  std::mt19937 rng_;
  Profile profile_;
  std::set<std::string> tips_;
  std::vector<std::string> all_;
  std::vector<std::vector<std::string>> merges_;
};

StateIds resolve(const DagRoom& room, const std::vector<StateIds>& sets) {
  auto r = resolve_state(room.version(), sets, room);
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  return std::move(r.value());
}

void check_properties(const DagRoom& room, std::vector<StateIds> sets, uint32_t seed) {
  StateIds result = resolve(room, sets);
  // The order of the state sets does not matter.
  std::mt19937 rng(seed);
  for (int i = 0; i < 2; ++i) {
    if (i == 0) std::reverse(sets.begin(), sets.end());
    if (i == 1) std::shuffle(sets.begin(), sets.end(), rng);
    BOOST_TEST((resolve(room, sets) == result), "seed " << seed << ": order changed the result");
  }
  auto split = state_res::split_conflicts(sets);
  auto difference = state_res::auth_difference(room, sets);
  BOOST_REQUIRE(difference.ok());
  auto subgraph = state_res::conflicted_subgraph(room, split.conflicted_ids());
  for (const auto& [key, id] : split.unconflicted) {
    BOOST_TEST((result.contains(key) && result.at(key) == id), "seed " << seed);
  }
  for (const auto& [key, id] : result) {
    EventPtr ev = room.find(id);
    BOOST_REQUIRE(ev);
    BOOST_TEST((ev->type() == key.first && ev->state_key() == key.second));
    // Every value is one of the state sets' or came from the auth difference (or subgraph).
    bool from_input = std::any_of(sets.begin(), sets.end(), [&](const StateIds& s) {
      return s.contains(key) && s.at(key) == id;
    });
    BOOST_TEST((from_input || difference->contains(id) || subgraph->contains(id)),
               "seed " << seed << ": " << room.name_of(id) << " came from nowhere");
  }
  BOOST_TEST((resolve(room, {result}) == result));
  BOOST_TEST((resolve(room, {result, result}) == result));
}

const std::vector<const RoomVersion*>& versions() {
  static const std::vector<const RoomVersion*> v = {&test::v10(), &test::v11(), &test::v12()};
  return v;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(state_res_forks)

BOOST_AUTO_TEST_CASE(generated_forks_resolve_deterministically) {
  for (const RoomVersion* v : versions()) {
    size_t merges = 0;
    for (uint32_t seed = 1; seed <= 8; ++seed) {
      ForkGenerator gen(*v, seed, Profile::kAnything);
      gen.grow(30);
      merges += gen.merges().size();
      for (const auto& prevs : gen.merges())
        check_properties(gen.room(), gen.states_after(prevs), seed);
      std::vector<StateIds> sets = gen.tip_states();
      // A single tip: resolve it with an old state, as a stale /state_ids answer would give.
      if (sets.size() < 2) sets.push_back(gen.room().state_after("e3"));
      check_properties(gen.room(), sets, seed);
    }
    BOOST_TEST(merges >= 16u, "v" << v->id << ": the generator made too few forks");
  }
}

BOOST_AUTO_TEST_CASE(without_loss_of_power_every_resolved_event_passes_auth_against_the_result) {
  for (const RoomVersion* v : versions()) {
    size_t merges = 0;
    for (uint32_t seed = 100; seed < 108; ++seed) {
      ForkGenerator gen(*v, seed, Profile::kMonotonic);
      gen.grow(30);
      merges += gen.merges().size();
      for (const auto& prevs : gen.merges()) {
        std::vector<StateIds> sets = gen.states_after(prevs);
        check_properties(gen.room(), sets, seed);
        StateIds result = resolve(gen.room(), sets);
        StateMap state = gen.room().load(result);
        for (const auto& [key, id] : result) {
          Status s = check_auth(*gen.room().find(id), state, *v);
          BOOST_TEST(s.ok(), "v" << v->id << " seed " << seed << ": " << gen.room().name_of(id)
                                 << " " << key.first << " refused: " << test::message_of(s));
        }
      }
    }
    BOOST_TEST(merges >= 16u, "v" << v->id << ": the generator made too few forks");
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::rooms
