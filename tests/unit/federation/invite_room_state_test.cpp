// The format and room checks of invite_room_state in an inbound invite: the create event is
// required, every entry is a full state PDU of the room version, all of the invite's room.
#include "federation/invite_room_state.h"

#include <boost/test/unit_test.hpp>

#include "tests/unit/rooms/test_room.h"

namespace haven::federation {
namespace {

using rooms::test::TestRoom;

const std::string kAlice = "@alice:hs1.test";

struct InviteRoom {
  TestRoom room;
  rooms::EventPtr join_rules, name;
  explicit InviteRoom(const rooms::RoomVersion& version, const std::string& creator = kAlice)
      : room(version, creator) {
    room.join(creator);
    join_rules = room.state(creator, "m.room.join_rules", R"({"join_rule":"invite"})");
    name = room.state(creator, "m.room.name", R"({"name":"Care"})");
  }
};

json::Document body_of(const std::vector<rooms::EventPtr>& events) {
  json::Document body(rapidjson::kObjectType);
  auto& a = body.GetAllocator();
  json::Value list(rapidjson::kArrayType);
  for (const auto& ev : events) list.PushBack(json::Value(ev->json(), a), a);
  body.AddMember("invite_room_state", std::move(list), a);
  return body;
}

std::string refusal(const json::Value& body, const InviteRoom& r) {
  auto parsed = parse_invite_room_state(body, r.room.version, r.room.room_id);
  BOOST_REQUIRE(!parsed.ok());
  BOOST_TEST(parsed.error().errcode == "M_INVALID_PARAM");
  BOOST_TEST(parsed.error().status == 400);
  return parsed.error().message;
}

BOOST_AUTO_TEST_CASE(full_pdus_with_the_create_event_are_taken) {
  for (const rooms::RoomVersion* version : {&rooms::test::v11(), &rooms::test::v12()}) {
    InviteRoom r(*version);
    auto parsed = parse_invite_room_state(body_of({r.room.create, r.join_rules, r.name}), *version,
                                          r.room.room_id);
    BOOST_REQUIRE_MESSAGE(parsed.ok(), (parsed.ok() ? "" : parsed.error().message));
    BOOST_TEST(parsed->size() == 3u);
    BOOST_TEST((*parsed)[0]->event_id() == r.room.create->event_id());
  }
}

BOOST_AUTO_TEST_CASE(the_create_event_is_required) {
  InviteRoom r(rooms::test::v12());
  BOOST_TEST(refusal(body_of({r.join_rules, r.name}), r).find("m.room.create") !=
             std::string::npos);
  BOOST_TEST(refusal(json::Document(rapidjson::kObjectType), r).find("m.room.create") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(stripped_events_are_refused) {
  InviteRoom r(rooms::test::v12());
  json::Document body = body_of({r.room.create});
  auto& a = body.GetAllocator();
  body["invite_room_state"].PushBack(
      json::Value(rooms::test::parse(
                      R"({"type":"m.room.name","state_key":"","sender":"@alice:hs1.test",
                          "content":{"name":"Care"}})"),
                  a),
      a);
  BOOST_TEST(refusal(body, r).find("not a PDU of room version 12") != std::string::npos);
  body["invite_room_state"].PushBack(json::Value("not an event"), a);
  body["invite_room_state"].Erase(body["invite_room_state"].Begin() + 1);
  BOOST_TEST(refusal(body, r) == "invite_room_state holds a non-object");
}

BOOST_AUTO_TEST_CASE(events_of_another_room_are_refused) {
  for (const rooms::RoomVersion* version : {&rooms::test::v11(), &rooms::test::v12()}) {
    InviteRoom r(*version);
    InviteRoom other(*version, "@carol:hs3.test");
    // Another room's name event beside this room's create event.
    BOOST_TEST(refusal(body_of({r.room.create, other.name}), r) ==
               "An invite_room_state event is from another room");
    // Another room's create event (in v12 the room id is derived from it).
    BOOST_TEST(refusal(body_of({other.room.create, r.name}), r) ==
               "An invite_room_state event is from another room");
  }
}

BOOST_AUTO_TEST_CASE(message_events_and_overlong_lists_are_refused) {
  InviteRoom r(rooms::test::v12());
  auto message = r.room.make({kAlice, "m.room.message", std::nullopt, R"({"body":"hi"})"});
  BOOST_TEST(refusal(body_of({r.room.create, message}), r) ==
             "invite_room_state holds a non-state event");
  std::vector<rooms::EventPtr> many(kMaxInviteRoomStateEvents + 1, r.name);
  many[0] = r.room.create;
  BOOST_TEST(refusal(body_of(many), r).find("at most 50") != std::string::npos);
  json::Document not_a_list = rooms::test::parse(R"({"invite_room_state":{}})");
  BOOST_TEST(refusal(not_a_list, r).find("at most 50") != std::string::npos);
}

}  // namespace
}  // namespace haven::federation
