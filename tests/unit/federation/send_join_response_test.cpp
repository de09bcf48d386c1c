// The joining server's checks of a send_join answer: what is accepted into the state, what is
// dropped (bad signatures, auth failures, other rooms), redacted copies of events whose content
// hash does not match, and answers that cannot be used at all.
#include "federation/send_join_response.h"

#include <boost/test/unit_test.hpp>

#include "homeserver/rooms/redaction.h"
#include "tests/unit/rooms/test_room.h"

namespace haven::federation {
namespace {

using rooms::EventPtr;
using rooms::test::EventSpec;
using rooms::test::TestRoom;

const std::string kAlice = "@alice:hs1.test";
const std::string kBob = "@bob:hs2.test";

// A public room on hs1 with a name, and bob's join built on it.
struct PublicRoom {
  TestRoom room;
  EventPtr alice_join, power, join_rules, name, bob_join;
  explicit PublicRoom(std::string create_content = "{}")
      : room(rooms::test::v12(), kAlice, std::move(create_content)) {
    alice_join = room.join(kAlice);
    power = room.power_levels(R"({"users":{},"state_default":50})");
    join_rules = room.state(kAlice, "m.room.join_rules", R"({"join_rule":"public"})");
    name = room.state(kAlice, "m.room.name", R"({"name":"Lobby"})");
    bob_join = room.make({kBob, "m.room.member", kBob, R"({"membership":"join"})"});
  }
  std::vector<EventPtr> state() const { return {room.create, alice_join, power, join_rules, name}; }
  std::vector<EventPtr> auth_chain() const { return {room.create, alice_join, power, join_rules}; }
};

json::Document answer(const std::vector<EventPtr>& state, const std::vector<EventPtr>& chain) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value s(rapidjson::kArrayType), c(rapidjson::kArrayType);
  for (const auto& ev : state) s.PushBack(json::Value(ev->json(), a), a);
  for (const auto& ev : chain) c.PushBack(json::Value(ev->json(), a), a);
  json::set(d, "state", std::move(s), a);
  json::set(d, "auth_chain", std::move(c), a);
  return d;
}

// Parses and resolves, with the signatures of the events whose ids are in `forged` failing.
Result<AcceptedJoinState> accept(const PublicRoom& r, const json::Value& body,
                                 const std::set<std::string>& forged = {}) {
  SendJoinResponse parsed;
  Status s = parse_send_join_response(body, r.room.version, r.bob_join, &parsed);
  if (!s.ok()) return s.error();
  std::vector<Status> sigs;
  for (const auto& ev : parsed.events) {
    sigs.push_back(forged.contains(ev->event_id()) ? Status(Error::forbidden("forged")) : Status{});
  }
  return resolve_send_join_response(parsed, sigs, r.room.room_id);
}

BOOST_AUTO_TEST_CASE(a_valid_answer_gives_the_state_before_the_join) {
  PublicRoom r;
  auto accepted = accept(r, answer(r.state(), r.auth_chain()));
  BOOST_REQUIRE_MESSAGE(accepted.ok(), (accepted.ok() ? std::string() : accepted.error().message));
  BOOST_TEST(accepted->state.size() == 5u);
  BOOST_TEST(accepted->state.at({"m.room.name", ""}) == r.name->event_id());
  BOOST_TEST(accepted->state.at({"m.room.member", kAlice}) == r.alice_join->event_id());
  BOOST_TEST(accepted->events.size() == 5u);
  BOOST_TEST(accepted->join->event_id() == r.bob_join->event_id());
  // Auth-chain order: every event after the events it names as auth events.
  auto position = [&](const EventPtr& ev) {
    for (size_t i = 0; i < accepted->events.size(); ++i) {
      if (accepted->events[i]->event_id() == ev->event_id()) return i;
    }
    return accepted->events.size();
  };
  BOOST_TEST(position(r.alice_join) < position(r.power));
  BOOST_TEST(position(r.power) < position(r.join_rules));
  BOOST_TEST(position(r.power) < position(r.name));
}

BOOST_AUTO_TEST_CASE(a_state_event_with_a_forged_signature_is_dropped) {
  PublicRoom r;
  auto accepted = accept(r, answer(r.state(), r.auth_chain()), {r.name->event_id()});
  BOOST_REQUIRE(accepted.ok());
  BOOST_TEST(!accepted->state.contains({"m.room.name", ""}));
}

BOOST_AUTO_TEST_CASE(the_join_fails_when_the_events_it_needs_are_forged) {
  PublicRoom r;
  auto accepted = accept(r, answer(r.state(), r.auth_chain()), {r.join_rules->event_id()});
  BOOST_REQUIRE(!accepted.ok());
  BOOST_TEST(accepted.error().errcode == "M_FORBIDDEN");
}

BOOST_AUTO_TEST_CASE(an_event_with_a_wrong_content_hash_is_kept_redacted) {
  PublicRoom r;
  json::Document body = answer(r.state(), r.auth_chain());
  // Change the name's content after it was hashed and signed.
  for (auto& ev : body["state"].GetArray()) {
    if (json::get_string(ev, "type") == "m.room.name") {
      json::set(ev["content"], "name", "Tampered", body.GetAllocator());
    }
  }
  auto accepted = accept(r, body);
  BOOST_REQUIRE(accepted.ok());
  BOOST_REQUIRE(accepted->state.contains({"m.room.name", ""}));
  BOOST_TEST(accepted->state.at({"m.room.name", ""}) == r.name->event_id());
  for (const auto& ev : accepted->events) {
    if (ev->type() == "m.room.name") BOOST_TEST(ev->content().ObjectEmpty());
  }
}

BOOST_AUTO_TEST_CASE(an_event_the_auth_rules_refuse_is_not_in_the_state) {
  PublicRoom r;
  // bob is not in the room: his topic is not allowed, whatever the answer says.
  EventPtr topic = r.room.make({kBob, "m.room.topic", "", R"({"topic":"spam"})"});
  std::vector<EventPtr> state = r.state();
  state.push_back(topic);
  auto accepted = accept(r, answer(state, r.auth_chain()));
  BOOST_REQUIRE(accepted.ok());
  BOOST_TEST(!accepted->state.contains({"m.room.topic", ""}));
}

BOOST_AUTO_TEST_CASE(an_answer_for_another_room_or_without_lists_is_refused) {
  PublicRoom r;
  PublicRoom other(R"({"m.federate":true})");
  auto accepted = accept(r, answer(other.state(), other.auth_chain()));
  BOOST_REQUIRE(!accepted.ok());
  BOOST_TEST(accepted.error().status == 502);
  auto empty = json::object();
  BOOST_TEST(!accept(r, empty).ok());
  json::Document no_create = answer({r.alice_join, r.name}, {r.alice_join});
  BOOST_TEST(!accept(r, no_create).ok());
}

BOOST_AUTO_TEST_CASE(a_join_the_state_does_not_allow_is_refused) {
  PublicRoom r;
  // The state says invite-only: bob's join (built on the public rule) does not pass it.
  EventPtr invite_only = r.room.state(kAlice, "m.room.join_rules", R"({"join_rule":"invite"})");
  std::vector<EventPtr> state{r.room.create, r.alice_join, r.power, invite_only, r.name};
  std::vector<EventPtr> chain = r.auth_chain();
  chain.push_back(invite_only);
  auto accepted = accept(r, answer(state, chain));
  BOOST_REQUIRE(!accepted.ok());
  BOOST_TEST(accepted.error().errcode == "M_FORBIDDEN");
}

}  // namespace
}  // namespace haven::federation
