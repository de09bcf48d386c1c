#include "homeserver/rooms/event_builder.h"

#include <algorithm>
#include <boost/test/unit_test.hpp>

#include "crypto/json_signing.h"
#include "homeserver/rooms/redaction.h"
#include "tests/unit/rooms/test_room.h"

namespace haven::rooms {

using test::parse;

namespace {

const std::string kAlice = "@alice:a.org";

EventDraft draft(const std::string& room_id, const std::string& sender, const std::string& type,
                 std::optional<std::string> state_key, const std::string& content) {
  EventDraft d;
  d.room_id = room_id;
  d.sender = sender;
  d.type = type;
  d.state_key = std::move(state_key);
  d.content = parse(content);
  d.origin_server_ts = 1234;
  return d;
}

// Builds the create event and the creator's join with build_event into `state`.
struct BuiltRoom {
  explicit BuiltRoom(const RoomVersion& v) : version(v) {
    EventDraft create =
        draft(v.room_id_from_create_event ? "" : "!r:a.org", kAlice, "m.room.create", "",
              R"({"room_version":")" + std::string(v.id) + R"(","creator":"@alice:a.org"})");
    auto ev = build_event(create, {}, 1, state, v, "a.org", test::test_key());
    BOOST_REQUIRE_MESSAGE(ev.ok(), (ev.ok() ? "" : ev.error().message));
    room_id = (*ev)->room_id();
    add(*ev);
    auto join = send(draft(room_id, kAlice, "m.room.member", kAlice, R"({"membership":"join"})"));
    BOOST_REQUIRE(join.ok());
  }
  Result<EventPtr> send(const EventDraft& d) {
    auto ev = build_event(d, {last}, depth + 1, state, version, "a.org", test::test_key());
    if (ev.ok()) add(*ev);
    return ev;
  }
  void add(const EventPtr& ev) {
    state.set(ev);
    last = ev->event_id();
    depth = ev->depth();
  }
  const RoomVersion& version;
  StateMap state;
  std::string room_id;
  std::string last;
  int64_t depth = 0;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(event_builder)

BOOST_AUTO_TEST_CASE(built_events_are_hashed_signed_and_identified) {
  for (const RoomVersion* v : {&test::v10(), &test::v11(), &test::v12()}) {
    BuiltRoom room(*v);
    auto msg = room.send(draft(room.room_id, kAlice, "m.room.message", std::nullopt,
                               R"({"body":"hi","msgtype":"m.text"})"));
    BOOST_REQUIRE(msg.ok());
    const Event& e = **msg;
    BOOST_TEST(crypto::check_content_hash(e.json()));
    BOOST_TEST(crypto::verify_json(redact(e.json(), *v), "a.org", test::test_key().key_id(),
                                   test::test_key().public_key()));
    BOOST_TEST(e.event_id() == *compute_event_id(e.json(), *v));
    BOOST_TEST(e.origin_server_ts() == 1234);
    BOOST_TEST(e.room_id() == room.room_id);
    BOOST_TEST(e.depth() == 3);
  }
}

BOOST_AUTO_TEST_CASE(prev_events_and_auth_events_are_filled_in) {
  BuiltRoom room(test::v11());
  std::string prev = room.last;
  auto msg = room.send(draft(room.room_id, kAlice, "m.room.message", std::nullopt, "{}"));
  BOOST_REQUIRE(msg.ok());
  BOOST_TEST(((*msg)->prev_events() == std::vector<std::string>{prev}));
  std::vector<std::string> expected = {room.state.get("m.room.create", "")->event_id(),
                                       room.state.get("m.room.member", kAlice)->event_id()};
  BOOST_TEST(((*msg)->auth_events() == expected));
}

BOOST_AUTO_TEST_CASE(v12_events_never_cite_the_create_event) {
  BuiltRoom room(test::v12());
  EventPtr create = room.state.get("m.room.create", "");
  BOOST_TEST(!create->json().HasMember("room_id"));
  BOOST_TEST(room.room_id == room_id_from_create_event(*create));
  auto msg = room.send(draft(room.room_id, kAlice, "m.room.message", std::nullopt, "{}"));
  BOOST_REQUIRE(msg.ok());
  auto& auth = (*msg)->auth_events();
  BOOST_TEST((std::find(auth.begin(), auth.end(), create->event_id()) == auth.end()));
  BOOST_TEST(auth.size() == 1u);  // the sender's join
}

BOOST_AUTO_TEST_CASE(v12_create_gets_a_room_id_derived_from_its_hash) {
  BuiltRoom a(test::v12());
  BOOST_TEST(a.room_id.size() == 44u);
  BOOST_TEST(a.room_id[0] == '!');
  BOOST_TEST(a.room_id.substr(1) == a.state.get("m.room.create", "")->event_id().substr(1));
}

BOOST_AUTO_TEST_CASE(redacts_goes_top_level_in_v10_and_into_content_from_v11) {
  for (const RoomVersion* v : {&test::v10(), &test::v11()}) {
    BuiltRoom room(*v);
    EventDraft d = draft(room.room_id, kAlice, "m.room.redaction", std::nullopt, "{}");
    d.redacts = "$target";
    auto ev = room.send(d);
    BOOST_REQUIRE(ev.ok());
    BOOST_TEST(*(*ev)->redacts() == "$target");
    BOOST_TEST((*ev)->json().HasMember("redacts") == !v->redacts_in_content);
    BOOST_TEST((*ev)->content().HasMember("redacts") == v->redacts_in_content);
  }
}

BOOST_AUTO_TEST_CASE(v10_lifts_a_content_redacts_to_the_top_level) {
  BuiltRoom room(test::v10());
  auto ev = room.send(
      draft(room.room_id, kAlice, "m.room.redaction", std::nullopt, R"({"redacts":"$t"})"));
  BOOST_REQUIRE(ev.ok());
  BOOST_TEST(*(*ev)->redacts() == "$t");
}

BOOST_AUTO_TEST_CASE(events_failing_auth_are_refused_with_the_rule) {
  BuiltRoom room(test::v11());
  auto ev = room.send(draft(room.room_id, "@carol:a.org", "m.room.message", std::nullopt, "{}"));
  BOOST_REQUIRE(!ev.ok());
  BOOST_TEST(ev.error().errcode == "M_FORBIDDEN");
  BOOST_TEST(ev.error().message.find("not in the room") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(content_that_is_not_canonical_json_is_refused) {
  BuiltRoom room(test::v11());
  auto ev = room.send(draft(room.room_id, kAlice, "m.room.message", std::nullopt, R"({"n":1.5})"));
  BOOST_REQUIRE(!ev.ok());
  BOOST_TEST(ev.error().errcode == "M_BAD_JSON");
}

BOOST_AUTO_TEST_CASE(depth_is_clamped_to_the_canonical_maximum) {
  BuiltRoom room(test::v11());
  EventDraft d = draft(room.room_id, kAlice, "m.room.message", std::nullopt, "{}");
  auto ev =
      build_event(d, {room.last}, INT64_MAX, room.state, test::v11(), "a.org", test::test_key());
  BOOST_REQUIRE(ev.ok());
  BOOST_TEST((*ev)->depth() == 9007199254740991);
}

BOOST_AUTO_TEST_CASE(sign_pdu_adds_a_second_server_signature) {
  BuiltRoom room(test::v11());
  auto ev = room.send(draft(room.room_id, kAlice, "m.room.message", std::nullopt, "{}"));
  BOOST_REQUIRE(ev.ok());
  rapidjson::Document pdu;
  pdu.CopyFrom((*ev)->json(), pdu.GetAllocator());
  BOOST_REQUIRE(sign_pdu(pdu, test::v11(), "b.org", test::test_key()));
  BOOST_TEST(pdu["signatures"].HasMember("a.org"));
  BOOST_TEST(pdu["signatures"].HasMember("b.org"));
  BOOST_TEST(*compute_event_id(pdu, test::v11()) == (*ev)->event_id());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::rooms
