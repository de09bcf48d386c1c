#include "homeserver/rooms/client_format.h"

#include <boost/test/unit_test.hpp>
#include <set>

#include "tests/unit/rooms/test_room.h"

namespace haven::rooms {

using test::EventSpec;
using test::TestRoom;

namespace {

const std::string kAlice = "@alice:a.org";

std::set<std::string> keys_of(const rapidjson::Value& obj) {
  std::set<std::string> out;
  for (auto& m : obj.GetObject()) out.insert(m.name.GetString());
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(client_format)

BOOST_AUTO_TEST_CASE(state_events_have_the_client_event_fields) {
  TestRoom room(test::v11(), kAlice);
  EventPtr join = room.join(kAlice);
  rapidjson::Document doc;
  rapidjson::Value out = to_client_event(*join, doc.GetAllocator(), true);
  BOOST_TEST((keys_of(out) == std::set<std::string>{"content", "event_id", "origin_server_ts",
                                                    "room_id", "sender", "state_key", "type"}));
  BOOST_TEST(out["event_id"].GetString() == join->event_id());
  BOOST_TEST(out["room_id"].GetString() == room.room_id);
  BOOST_TEST(std::string(out["content"]["membership"].GetString()) == "join");
  BOOST_TEST(out["origin_server_ts"].GetInt64() == join->origin_server_ts());
}

BOOST_AUTO_TEST_CASE(message_events_have_no_state_key_and_room_id_is_optional) {
  TestRoom room(test::v11(), kAlice);
  room.join(kAlice);
  EventPtr msg = room.apply(EventSpec(kAlice, "m.room.message", std::nullopt, R"({"body":"x"})"));
  rapidjson::Document doc;
  rapidjson::Value out = to_client_event(*msg, doc.GetAllocator(), false);
  BOOST_TEST((keys_of(out) ==
              std::set<std::string>{"content", "event_id", "origin_server_ts", "sender", "type"}));
}

BOOST_AUTO_TEST_CASE(redactions_show_redacts_at_top_level_and_in_content) {
  for (const RoomVersion* v : {&test::v10(), &test::v11()}) {
    TestRoom room(*v, kAlice);
    room.join(kAlice);
    EventSpec spec(kAlice, "m.room.redaction", std::nullopt, "{}");
    if (v->redacts_in_content) {
      spec.content = R"({"redacts":"$target"})";
    } else {
      spec.extra_top_level = R"("redacts":"$target")";
    }
    EventPtr redaction = room.apply(spec);
    rapidjson::Document doc;
    rapidjson::Value out = to_client_event(*redaction, doc.GetAllocator(), true);
    BOOST_TEST(std::string(out["redacts"].GetString()) == "$target");
    BOOST_TEST(std::string(out["content"]["redacts"].GetString()) == "$target");
  }
}

BOOST_AUTO_TEST_CASE(v12_create_event_shows_its_derived_room_id) {
  TestRoom room(test::v12(), kAlice);
  rapidjson::Document doc;
  rapidjson::Value out = to_client_event(*room.create, doc.GetAllocator(), true);
  BOOST_TEST(out["room_id"].GetString() == room.room_id);
}

BOOST_AUTO_TEST_CASE(pdu_only_fields_are_not_exposed) {
  TestRoom room(test::v11(), kAlice);
  EventPtr join = room.join(kAlice);
  rapidjson::Document doc;
  rapidjson::Value out = to_client_event(*join, doc.GetAllocator(), true);
  for (const char* key : {"auth_events", "prev_events", "depth", "hashes", "signatures"}) {
    BOOST_TEST(!out.HasMember(key), key);
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::rooms
