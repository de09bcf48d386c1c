#include "homeserver/rooms/event.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <boost/test/unit_test.hpp>
#include <functional>

#include "crypto/base64.h"
#include "crypto/canonical_json.h"
#include "crypto/hash.h"
#include "crypto/json_signing.h"
#include "homeserver/rooms/event_builder.h"
#include "homeserver/rooms/redaction.h"
#include "tests/unit/rooms/test_room.h"

namespace haven::rooms {

using test::parse;

namespace {

constexpr const char* kBasePdu = R"({
  "auth_events": ["$aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"],
  "content": {"body": "hello", "msgtype": "m.text"},
  "depth": 5,
  "hashes": {"sha256": "placeholder"},
  "origin_server_ts": 1700000000000,
  "prev_events": ["$bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"],
  "room_id": "!room:example.org",
  "sender": "@alice:example.org",
  "signatures": {"example.org": {"ed25519:test": "sig"}},
  "type": "m.room.message",
  "unsigned": {"age": 5}
})";

std::string to_text(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return buf.GetString();
}

Result<EventPtr> parse_modified(const RoomVersion& version,
                                const std::function<void(rapidjson::Document&)>& mutate) {
  rapidjson::Document doc = parse(kBasePdu);
  mutate(doc);
  return Event::parse_pdu(to_text(doc), version);
}

void set(rapidjson::Document& d, const char* key, const char* json) {
  rapidjson::Document v = parse(json);
  rapidjson::Value copy(v, d.GetAllocator());
  if (d.HasMember(key)) {
    d[key] = copy;
  } else {
    d.AddMember(rapidjson::StringRef(key), copy, d.GetAllocator());
  }
}

std::string errcode(const Result<EventPtr>& r) { return r.ok() ? "ok" : r.error().errcode; }

}  // namespace

BOOST_AUTO_TEST_SUITE(event)

BOOST_AUTO_TEST_CASE(parses_the_fields_of_a_valid_pdu) {
  auto ev = parse_modified(test::v11(), [](auto&) {});
  BOOST_REQUIRE(ev.ok());
  const Event& e = **ev;
  BOOST_TEST(e.sender() == "@alice:example.org");
  BOOST_TEST(e.room_id() == "!room:example.org");
  BOOST_TEST(e.type() == "m.room.message");
  BOOST_TEST(!e.is_state());
  BOOST_TEST(e.depth() == 5);
  BOOST_TEST(e.origin_server_ts() == 1700000000000);
  BOOST_TEST(e.prev_events().size() == 1u);
  BOOST_TEST(e.auth_events().size() == 1u);
  BOOST_TEST(std::string(e.content()["body"].GetString()) == "hello");
  BOOST_TEST(&e.version() == &test::v11());
}

BOOST_AUTO_TEST_CASE(event_id_is_the_urlsafe_reference_hash_of_the_redacted_event) {
  auto ev = parse_modified(test::v11(), [](auto&) {});
  BOOST_REQUIRE(ev.ok());
  // Written out by hand: the redacted form drops content keys, unsigned and signatures.
  rapidjson::Document redacted = parse(R"({
    "auth_events": ["$aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"], "content": {}, "depth": 5,
    "hashes": {"sha256": "placeholder"}, "origin_server_ts": 1700000000000,
    "prev_events": ["$bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"],
    "room_id": "!room:example.org", "sender": "@alice:example.org", "type": "m.room.message"})");
  std::string expected =
      "$" + crypto::base64_encode_urlsafe(crypto::sha256(*crypto::canonical_json(redacted)));
  BOOST_TEST((*ev)->event_id() == expected);
  BOOST_TEST((*ev)->event_id().size() == 44u);
  BOOST_TEST((*ev)->event_id().find_first_of("+/=") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(event_id_does_not_change_when_content_is_redacted) {
  auto full = parse_modified(test::v11(), [](auto&) {});
  auto other_body =
      parse_modified(test::v11(), [](auto& d) { set(d, "content", R"({"body":"changed"})"); });
  BOOST_REQUIRE(full.ok() && other_body.ok());
  BOOST_TEST((*full)->event_id() == (*other_body)->event_id());
  auto other_depth = parse_modified(test::v11(), [](auto& d) { set(d, "depth", "6"); });
  BOOST_TEST((*full)->event_id() != (*other_depth)->event_id());
}

BOOST_AUTO_TEST_CASE(built_events_carry_a_valid_content_hash_and_signature) {
  test::TestRoom room(test::v11(), "@alice:example.org");
  EventPtr ev = room.apply(
      {"@alice:example.org", "m.room.member", "@alice:example.org", R"({"membership":"join"})"});
  BOOST_TEST(crypto::check_content_hash(ev->json()));
  BOOST_TEST(crypto::verify_json(redact(ev->json(), test::v11()), "example.org", "ed25519:test",
                                 test::test_key().public_key()));
}

BOOST_AUTO_TEST_CASE(rejects_events_over_65536_bytes) {
  auto big = parse_modified(test::v11(), [](auto& d) {
    std::string body = "{\"body\":\"" + std::string(70000, 'x') + "\"}";
    set(d, "content", body.c_str());
  });
  BOOST_TEST(errcode(big) == "M_TOO_LARGE");
  auto fits = parse_modified(test::v11(), [](auto& d) {
    std::string body = "{\"body\":\"" + std::string(60000, 'x') + "\"}";
    set(d, "content", body.c_str());
  });
  BOOST_TEST(fits.ok());
}

BOOST_AUTO_TEST_CASE(rejects_text_that_is_not_json) {
  BOOST_TEST(errcode(Event::parse_pdu("{not json", test::v11())) == "M_NOT_JSON");
  BOOST_TEST(errcode(Event::parse_pdu("[1,2]", test::v11())) == "M_BAD_JSON");
}

BOOST_AUTO_TEST_CASE(rejects_invalid_identifiers) {
  auto bad_sender = [](auto& d) { set(d, "sender", R"("alice")"); };
  BOOST_TEST(errcode(parse_modified(test::v11(), bad_sender)) == "M_BAD_JSON");
  auto bad_room = [](auto& d) { set(d, "room_id", R"("!room")"); };
  BOOST_TEST(errcode(parse_modified(test::v11(), bad_room)) == "M_BAD_JSON");
  auto bad_prev = [](auto& d) { set(d, "prev_events", R"(["nope"])"); };
  BOOST_TEST(errcode(parse_modified(test::v11(), bad_prev)) == "M_BAD_JSON");
}

BOOST_AUTO_TEST_CASE(v12_requires_hash_room_ids_and_v11_domain_ones) {
  auto hash_room = [](auto& d) {
    set(d, "room_id", R"("!Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYQ")");
  };
  BOOST_TEST(parse_modified(test::v12(), hash_room).ok());
  BOOST_TEST(errcode(parse_modified(test::v11(), hash_room)) == "M_BAD_JSON");
  BOOST_TEST(errcode(parse_modified(test::v12(), [](auto&) {})) == "M_BAD_JSON");
}

BOOST_AUTO_TEST_CASE(rejects_wrong_types) {
  const char* cases[][2] = {
      {"depth", R"("5")"},
      {"depth", "-1"},
      {"content", "[]"},
      {"prev_events", R"("$x")"},
      {"auth_events", "[1]"},
      {"state_key", "5"},
      {"origin_server_ts", "1.5"},
      {"hashes", "{}"},
      {"signatures", R"({"a":1})"},
      {"type", "7"},
      {"unsigned", "[]"},
      {"sender", "null"},
  };
  for (auto& [key, value] : cases) {
    auto r = parse_modified(test::v11(), [&](auto& d) { set(d, key, value); });
    BOOST_TEST(errcode(r) == "M_BAD_JSON", key << " = " << value);
  }
}

BOOST_AUTO_TEST_CASE(rejects_missing_required_keys) {
  for (const char* key : {"auth_events", "content", "depth", "hashes", "origin_server_ts",
                          "prev_events", "room_id", "sender", "signatures", "type"}) {
    auto r = parse_modified(test::v11(), [&](auto& d) { d.RemoveMember(key); });
    BOOST_TEST(errcode(r) == "M_BAD_JSON", key);
  }
}

BOOST_AUTO_TEST_CASE(rejects_floats_and_integers_outside_the_canonical_range) {
  auto too_big = [](auto& d) { set(d, "content", R"({"n": 9007199254740992})"); };
  BOOST_TEST(errcode(parse_modified(test::v11(), too_big)) == "M_BAD_JSON");
  auto max_ok = [](auto& d) { set(d, "content", R"({"n": 9007199254740991})"); };
  BOOST_TEST(parse_modified(test::v11(), max_ok).ok());
  auto fl = [](auto& d) { set(d, "content", R"({"n": 1.5})"); };
  BOOST_TEST(errcode(parse_modified(test::v11(), fl)) == "M_BAD_JSON");
}

BOOST_AUTO_TEST_CASE(rejects_oversized_type_state_key_and_reference_lists) {
  std::string long_type = "\"" + std::string(256, 't') + "\"";
  auto t = [&](auto& d) { set(d, "type", long_type.c_str()); };
  BOOST_TEST(errcode(parse_modified(test::v11(), t)) == "M_BAD_JSON");
  auto sk = [&](auto& d) { set(d, "state_key", long_type.c_str()); };
  BOOST_TEST(errcode(parse_modified(test::v11(), sk)) == "M_BAD_JSON");
  std::string ok_key = "\"" + std::string(255, 't') + "\"";
  auto sk_ok = [&](auto& d) { set(d, "state_key", ok_key.c_str()); };
  BOOST_TEST(parse_modified(test::v11(), sk_ok).ok());
  std::string many = "[";
  for (int i = 0; i < 21; ++i)
    many += std::string(i ? "," : "") + "\"$e" + std::to_string(i) + "\"";
  many += "]";
  auto prev = [&](auto& d) { set(d, "prev_events", many.c_str()); };
  BOOST_TEST(errcode(parse_modified(test::v11(), prev)) == "M_BAD_JSON");
}

BOOST_AUTO_TEST_CASE(rejects_duplicate_keys) {
  std::string text = kBasePdu;
  text.insert(text.find("\"depth\""), "\"depth\": 7, ");
  BOOST_TEST(errcode(Event::parse_pdu(text, test::v11())) == "M_BAD_JSON");
}

BOOST_AUTO_TEST_CASE(redacts_is_top_level_in_v10_and_in_content_from_v11) {
  auto v10 = parse_modified(test::v10(), [](auto& d) {
    set(d, "type", R"("m.room.redaction")");
    set(d, "redacts", R"("$target")");
    set(d, "content", R"({"redacts":"$ignored"})");
  });
  BOOST_REQUIRE(v10.ok());
  BOOST_TEST(*(*v10)->redacts() == "$target");
  auto v11 = parse_modified(test::v11(), [](auto& d) {
    set(d, "type", R"("m.room.redaction")");
    set(d, "redacts", R"("$ignored")");
    set(d, "content", R"({"redacts":"$target"})");
  });
  BOOST_REQUIRE(v11.ok());
  BOOST_TEST(*(*v11)->redacts() == "$target");
  auto message =
      parse_modified(test::v11(), [](auto& d) { set(d, "content", R"({"redacts":5})"); });
  BOOST_REQUIRE(message.ok());
  BOOST_TEST(!(*message)->redacts());
}

BOOST_AUTO_TEST_CASE(redaction_with_a_non_event_id_target_is_rejected) {
  auto r = parse_modified(test::v11(), [](auto& d) {
    set(d, "type", R"("m.room.redaction")");
    set(d, "content", R"({"redacts":42})");
  });
  BOOST_TEST(errcode(r) == "M_BAD_JSON");
}

BOOST_AUTO_TEST_CASE(state_events_expose_state_key_and_membership) {
  auto ev = parse_modified(test::v11(), [](auto& d) {
    set(d, "type", R"("m.room.member")");
    set(d, "state_key", R"("@bob:example.org")");
    set(d, "content", R"({"membership":"invite"})");
  });
  BOOST_REQUIRE(ev.ok());
  BOOST_TEST((*ev)->is_state());
  BOOST_TEST(*(*ev)->state_key() == "@bob:example.org");
  BOOST_TEST((*ev)->membership() == "invite");
  BOOST_TEST((*ev)->is_state_event("m.room.member", "@bob:example.org"));
}

BOOST_AUTO_TEST_CASE(v12_create_event_defines_the_room_id_from_its_event_id) {
  test::TestRoom room(test::v12(), "@alice:example.org");
  const Event& create = *room.create;
  BOOST_TEST(!create.json().HasMember("room_id"));
  BOOST_TEST(create.room_id() == "!" + create.event_id().substr(1));
  BOOST_TEST(room_id_from_create_event(create) == create.room_id());
  BOOST_TEST(room.room_id == create.room_id());
}

BOOST_AUTO_TEST_CASE(from_stored_keeps_the_given_event_id) {
  EventPtr ev = Event::from_stored(kBasePdu, "$stored", test::v11());
  BOOST_REQUIRE(ev);
  BOOST_TEST(ev->event_id() == "$stored");
  BOOST_TEST(ev->sender() == "@alice:example.org");
  BOOST_TEST(!Event::from_stored("[]", "$x", test::v11()));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::rooms
