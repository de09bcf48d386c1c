#include "homeserver/rooms/redaction.h"

#include <boost/test/unit_test.hpp>
#include <set>
#include <string>

#include "tests/unit/rooms/test_room.h"

namespace haven::rooms {

using test::parse;

namespace {

// Every top-level key the spec lists anywhere, plus ones no version keeps.
constexpr const char* kEveryTopLevel = R"({
  "event_id": "$e", "type": "m.room.message", "room_id": "!r:x.org", "sender": "@a:x.org",
  "state_key": "", "content": {}, "hashes": {"sha256": "h"}, "signatures": {"x.org": {}},
  "depth": 1, "prev_events": [], "prev_state": [], "auth_events": [], "origin": "x.org",
  "origin_server_ts": 1, "membership": "join", "unsigned": {"age": 1}, "redacts": "$t",
  "custom": true
})";

std::set<std::string> keys_of(const rapidjson::Value& obj) {
  std::set<std::string> out;
  for (auto& m : obj.GetObject()) out.insert(m.name.GetString());
  return out;
}

// The content left after redacting an event of `type` with `content`.
std::set<std::string> redacted_content_keys(const RoomVersion& v, const std::string& type,
                                            const std::string& content) {
  rapidjson::Document ev =
      parse(R"({"type":")" + type + R"(","sender":"@a:x.org","content":)" + content + "}");
  rapidjson::Document r = redact(ev, v);
  return keys_of(r["content"]);
}

using Keys = std::set<std::string>;

}  // namespace

BOOST_AUTO_TEST_SUITE(redaction)

BOOST_AUTO_TEST_CASE(v10_keeps_the_v9_top_level_keys) {
  rapidjson::Document r = redact(parse(kEveryTopLevel), test::v10());
  Keys expected = {"event_id",   "type",
                   "room_id",    "sender",
                   "state_key",  "content",
                   "hashes",     "signatures",
                   "depth",      "prev_events",
                   "prev_state", "auth_events",
                   "origin",     "origin_server_ts",
                   "membership"};
  BOOST_TEST((keys_of(r) == expected));
}

BOOST_AUTO_TEST_CASE(v11_drops_origin_membership_and_prev_state) {
  for (const RoomVersion* v : {&test::v11(), &test::v12()}) {
    rapidjson::Document r = redact(parse(kEveryTopLevel), *v);
    Keys expected = {"event_id",  "type",        "room_id",     "sender",
                     "state_key", "content",     "hashes",      "signatures",
                     "depth",     "prev_events", "auth_events", "origin_server_ts"};
    BOOST_TEST((keys_of(r) == expected));
  }
}

BOOST_AUTO_TEST_CASE(member_keeps_membership_and_authorising_user) {
  std::string content =
      R"({"membership":"join","join_authorised_via_users_server":"@b:x.org",)"
      R"("displayname":"A","avatar_url":"mxc://x/y","reason":"r",)"
      R"("third_party_invite":{"display_name":"d","signed":{"mxid":"@a:x.org","token":"t"}}})";
  BOOST_TEST((redacted_content_keys(test::v10(), "m.room.member", content) ==
              Keys{"membership", "join_authorised_via_users_server"}));
  BOOST_TEST((redacted_content_keys(test::v11(), "m.room.member", content) ==
              Keys{"membership", "join_authorised_via_users_server", "third_party_invite"}));
}

BOOST_AUTO_TEST_CASE(v11_member_keeps_only_signed_of_third_party_invite) {
  rapidjson::Document ev =
      parse(R"({"type":"m.room.member","content":{"membership":"invite",)"
            R"("third_party_invite":{"display_name":"d","signed":{"token":"t"}}}})");
  rapidjson::Document r = redact(ev, test::v11());
  const rapidjson::Value& tpi = r["content"]["third_party_invite"];
  BOOST_TEST((keys_of(tpi) == Keys{"signed"}));
  BOOST_TEST(std::string(tpi["signed"]["token"].GetString()) == "t");
  rapidjson::Document no_signed =
      parse(R"({"type":"m.room.member","content":{"membership":"invite",)"
            R"("third_party_invite":{"display_name":"d"}}})");
  rapidjson::Document r2 = redact(no_signed, test::v11());
  BOOST_TEST(r2["content"]["third_party_invite"].ObjectEmpty());
}

BOOST_AUTO_TEST_CASE(create_keeps_creator_in_v10_and_everything_from_v11) {
  std::string content = R"({"creator":"@a:x.org","room_version":"10","m.federate":false})";
  BOOST_TEST((redacted_content_keys(test::v10(), "m.room.create", content) == Keys{"creator"}));
  BOOST_TEST((redacted_content_keys(test::v11(), "m.room.create", content) ==
              Keys{"creator", "room_version", "m.federate"}));
  std::string v12 = R"({"room_version":"12","additional_creators":["@b:x.org"],"type":"m.space"})";
  BOOST_TEST((redacted_content_keys(test::v12(), "m.room.create", v12) ==
              Keys{"room_version", "additional_creators", "type"}));
}

BOOST_AUTO_TEST_CASE(join_rules_keep_join_rule_and_allow) {
  std::string content = R"({"join_rule":"restricted","allow":[],"extra":1})";
  for (const RoomVersion* v : {&test::v10(), &test::v11()}) {
    BOOST_TEST(
        (redacted_content_keys(*v, "m.room.join_rules", content) == Keys{"join_rule", "allow"}));
  }
}

BOOST_AUTO_TEST_CASE(power_levels_keep_invite_only_from_v11) {
  std::string content =
      R"({"ban":50,"events":{},"events_default":0,"invite":0,"kick":50,"redact":50,)"
      R"("state_default":50,"users":{},"users_default":0,"notifications":{"room":50}})";
  Keys v10_keys = {"ban",    "events",        "events_default", "kick",
                   "redact", "state_default", "users",          "users_default"};
  BOOST_TEST((redacted_content_keys(test::v10(), "m.room.power_levels", content) == v10_keys));
  Keys v11_keys = v10_keys;
  v11_keys.insert("invite");
  BOOST_TEST((redacted_content_keys(test::v11(), "m.room.power_levels", content) == v11_keys));
}

BOOST_AUTO_TEST_CASE(history_visibility_keeps_its_value) {
  BOOST_TEST((redacted_content_keys(test::v10(), "m.room.history_visibility",
                                    R"({"history_visibility":"joined","x":1})") ==
              Keys{"history_visibility"}));
}

BOOST_AUTO_TEST_CASE(redaction_keeps_content_redacts_only_from_v11) {
  std::string content = R"({"redacts":"$t","reason":"spam"})";
  BOOST_TEST(redacted_content_keys(test::v10(), "m.room.redaction", content).empty());
  BOOST_TEST((redacted_content_keys(test::v11(), "m.room.redaction", content) == Keys{"redacts"}));
}

BOOST_AUTO_TEST_CASE(other_event_types_lose_all_content) {
  BOOST_TEST(
      redacted_content_keys(test::v11(), "m.room.message", R"({"body":"hi","msgtype":"m.text"})")
          .empty());
  BOOST_TEST(redacted_content_keys(test::v11(), "m.room.name", R"({"name":"n"})").empty());
  BOOST_TEST(redacted_content_keys(test::v11(), "m.room.topic", R"({"topic":"t"})").empty());
}

BOOST_AUTO_TEST_CASE(non_object_input_gives_an_empty_object) {
  rapidjson::Document r = redact(parse("[1]"), test::v11());
  BOOST_TEST(r.IsObject());
  BOOST_TEST(r.ObjectEmpty());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::rooms
