// Filters: parsing and validation, the matching rules, stored filters and resolve_filter.
#include "homeserver/sync/filter.h"

#include <boost/test/unit_test.hpp>

#include "homeserver/base/json.h"
#include "tests/unit/support/test_store.h"

namespace haven::sync {
namespace {

Result<Filter> parse(std::string_view text) { return parse_filter_json(text); }

std::string errcode_of(std::string_view text) {
  auto f = parse(text);
  return f.ok() ? "ok" : f.error().errcode;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(filter)

BOOST_AUTO_TEST_CASE(spec_example_parses_into_every_field) {
  auto f = parse(R"({
    "room": {
      "state": {"types": ["m.room.*"], "not_rooms": ["!726s6s6q:example.com"]},
      "timeline": {"limit": 10, "types": ["m.room.message"],
                   "not_rooms": ["!726s6s6q:example.com"], "not_senders": ["@spam:example.com"]},
      "ephemeral": {"types": ["m.receipt", "m.typing"], "not_rooms": ["!726s6s6q:example.com"],
                    "not_senders": ["@spam:example.com"]},
      "account_data": {"lazy_load_members": true, "contains_url": false},
      "rooms": ["!a:example.com"], "include_leave": true
    },
    "presence": {"types": ["m.presence"], "not_senders": ["@alice:example.com"]},
    "account_data": {"limit": 3},
    "event_format": "federation",
    "event_fields": ["type", "content", "sender"]
  })");
  BOOST_REQUIRE_MESSAGE(f.ok(), (f.ok() ? std::string() : f.error().message));
  BOOST_TEST(*f->room.timeline.limit == 10);
  BOOST_TEST(f->room.timeline.types->at(0) == "m.room.message");
  BOOST_TEST(f->room.timeline.not_senders->at(0) == "@spam:example.com");
  BOOST_TEST(f->room.state.types->at(0) == "m.room.*");
  BOOST_TEST(f->room.ephemeral.types->size() == 2u);
  BOOST_TEST(f->room.account_data.lazy_load_members);
  BOOST_TEST(*f->room.account_data.contains_url == false);
  BOOST_TEST(f->room.rooms->at(0) == "!a:example.com");
  BOOST_TEST(f->room.include_leave);
  BOOST_TEST(f->presence.not_senders->at(0) == "@alice:example.com");
  BOOST_TEST(*f->account_data.limit == 3);
  BOOST_TEST(f->event_format == "federation");
  BOOST_TEST(f->event_fields->size() == 3u);
}

BOOST_AUTO_TEST_CASE(empty_filter_restricts_nothing) {
  auto f = parse("{}");
  BOOST_REQUIRE(f.ok());
  BOOST_TEST(!f->room.timeline.limit.has_value());
  BOOST_TEST(!f->room.rooms.has_value());
  BOOST_TEST(!f->room.include_leave);
  BOOST_TEST(!f->room.state.lazy_load_members);
  BOOST_TEST(f->event_format == "client");
  BOOST_TEST(matches(f->room.timeline, "m.room.message", "@a:x"));
  BOOST_TEST(room_allowed(f->room, "!r:x"));
}

BOOST_AUTO_TEST_CASE(null_members_count_as_absent) {
  auto f = parse(R"({"room": null, "presence": {"types": null}})");
  BOOST_REQUIRE(f.ok());
  BOOST_TEST(!f->presence.types.has_value());
}

BOOST_AUTO_TEST_CASE(wrongly_typed_fields_are_bad_json) {
  BOOST_TEST(errcode_of(R"({"room": {"timeline": {"limit": "10"}}})") == "M_BAD_JSON");
  BOOST_TEST(errcode_of(R"({"room": {"timeline": {"limit": 1.5}}})") == "M_BAD_JSON");
  BOOST_TEST(errcode_of(R"({"room": {"timeline": {"limit": -1}}})") == "M_BAD_JSON");
  BOOST_TEST(errcode_of(R"({"room": {"timeline": {"types": "m.room.message"}}})") == "M_BAD_JSON");
  BOOST_TEST(errcode_of(R"({"room": {"timeline": {"types": [1]}}})") == "M_BAD_JSON");
  BOOST_TEST(errcode_of(R"({"room": {"state": {"lazy_load_members": "yes"}}})") == "M_BAD_JSON");
  BOOST_TEST(errcode_of(R"({"room": {"include_leave": 1}})") == "M_BAD_JSON");
  BOOST_TEST(errcode_of(R"({"room": []})") == "M_BAD_JSON");
  BOOST_TEST(errcode_of(R"({"room": {"timeline": 5}})") == "M_BAD_JSON");
  BOOST_TEST(errcode_of(R"({"presence": "all"})") == "M_BAD_JSON");
  BOOST_TEST(errcode_of(R"({"event_format": "raw"})") == "M_BAD_JSON");
  BOOST_TEST(errcode_of(R"({"event_fields": "type"})") == "M_BAD_JSON");
  BOOST_TEST(errcode_of(R"({"room": {"timeline": {"contains_url": "true"}}})") == "M_BAD_JSON");
}

BOOST_AUTO_TEST_CASE(ids_in_lists_must_be_well_formed) {
  BOOST_TEST(errcode_of(R"({"room": {"rooms": ["not-a-room"]}})") == "M_BAD_JSON");
  BOOST_TEST(errcode_of(R"({"room": {"timeline": {"not_rooms": ["@user:x"]}}})") == "M_BAD_JSON");
  BOOST_TEST(errcode_of(R"({"presence": {"senders": ["alice"]}})") == "M_BAD_JSON");
  BOOST_TEST(errcode_of(R"({"room": {"timeline": {"not_senders": ["!room:x"]}}})") == "M_BAD_JSON");
}

BOOST_AUTO_TEST_CASE(errors_name_the_field) {
  auto f = parse(R"({"room": {"timeline": {"limit": "ten"}}})");
  BOOST_REQUIRE(!f.ok());
  BOOST_TEST(f.error().message.find("room.timeline") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(not_json_and_non_objects_are_refused) {
  BOOST_TEST(errcode_of("{bad json") == "M_NOT_JSON");
  BOOST_TEST(errcode_of("[]") == "M_BAD_JSON");
  auto doc = json::parse_trusted("[1]");
  BOOST_TEST(parse_filter(doc).error().errcode == "M_BAD_JSON");
}

BOOST_AUTO_TEST_CASE(oversized_filters_are_refused) {
  std::string big = R"({"event_fields":[)";
  for (int i = 0; i < 20000; ++i) big += R"("abcd",)";
  big += R"("x"]})";
  BOOST_TEST(errcode_of(big) == "M_TOO_LARGE");
}

BOOST_AUTO_TEST_CASE(room_event_filter_parses_on_its_own) {
  auto f =
      parse_room_event_filter_json(R"({"types": ["m.room.message"], "lazy_load_members": true})");
  BOOST_REQUIRE(f.ok());
  BOOST_TEST(f->lazy_load_members);
  BOOST_TEST(!matches(*f, "m.room.member", "@a:x"));
  BOOST_TEST(parse_room_event_filter_json(R"({"limit": "x"})").error().errcode == "M_BAD_JSON");
}

BOOST_AUTO_TEST_CASE(wildcards_match_any_sequence) {
  BOOST_TEST(type_matches("m.room.message", "m.room.message"));
  BOOST_TEST(!type_matches("m.room.message", "m.room.messages"));
  BOOST_TEST(!type_matches("m.room.message", "m.room.messag"));
  BOOST_TEST(type_matches("m.room.*", "m.room.message"));
  BOOST_TEST(type_matches("m.room.*", "m.room."));
  BOOST_TEST(!type_matches("m.room.*", "m.roo"));
  BOOST_TEST(type_matches("*", ""));
  BOOST_TEST(type_matches("*", "anything"));
  BOOST_TEST(type_matches("m.*.member", "m.room.member"));
  BOOST_TEST(type_matches("m.*.member", "m.a.b.member"));
  BOOST_TEST(!type_matches("m.*.member", "m.room.members"));
  BOOST_TEST(type_matches("*message*", "m.room.message.v2"));
  BOOST_TEST(type_matches("a**b", "ab"));
  BOOST_TEST(!type_matches("", "a"));
  BOOST_TEST(type_matches("", ""));
  // No exponential backtracking on hostile patterns.
  BOOST_TEST(!type_matches(std::string(50, '*') + "b", std::string(10000, 'a')));
}

BOOST_AUTO_TEST_CASE(not_types_win_over_types) {
  EventFilter f;
  f.types = {{"m.room.*"}};
  f.not_types = {{"m.room.member"}};
  BOOST_TEST(matches(f, "m.room.message", ""));
  BOOST_TEST(!matches(f, "m.room.member", ""));
  BOOST_TEST(!matches(f, "m.presence", ""));
}

BOOST_AUTO_TEST_CASE(an_empty_types_list_matches_nothing) {
  EventFilter f;
  f.types = std::vector<std::string>{};
  BOOST_TEST(!matches(f, "m.room.message", "@a:x"));
}

BOOST_AUTO_TEST_CASE(sender_rules_apply_only_when_the_sender_is_known) {
  EventFilter f;
  f.senders = {{"@a:x", "@b:x"}};
  f.not_senders = {{"@b:x"}};
  BOOST_TEST(matches(f, "t", "@a:x"));
  BOOST_TEST(!matches(f, "t", "@b:x"));
  BOOST_TEST(!matches(f, "t", "@c:x"));
  BOOST_TEST(matches(f, "t", ""));
}

BOOST_AUTO_TEST_CASE(room_event_filters_check_rooms_and_urls) {
  RoomEventFilter f;
  f.rooms = {{"!a:x", "!b:x"}};
  f.not_rooms = {{"!b:x"}};
  BOOST_TEST(matches(f, "!a:x", "t", "@u:x", false));
  BOOST_TEST(!matches(f, "!b:x", "t", "@u:x", false));
  BOOST_TEST(!matches(f, "!c:x", "t", "@u:x", false));
  BOOST_TEST(room_allowed(f, "!a:x"));
  BOOST_TEST(!room_allowed(f, "!b:x"));
  f.contains_url = true;
  BOOST_TEST(matches(f, "!a:x", "t", "@u:x", true));
  BOOST_TEST(!matches(f, "!a:x", "t", "@u:x", false));
  f.contains_url = false;
  BOOST_TEST(!matches(f, "!a:x", "t", "@u:x", true));
  BOOST_TEST(matches(f, "!a:x", "t", "@u:x", false));
}

BOOST_AUTO_TEST_CASE(room_filter_not_rooms_win_over_rooms) {
  RoomFilter f;
  BOOST_TEST(room_allowed(f, "!any:x"));
  f.rooms = {{"!a:x"}};
  BOOST_TEST(room_allowed(f, "!a:x"));
  BOOST_TEST(!room_allowed(f, "!b:x"));
  f.not_rooms = {{"!a:x"}};
  BOOST_TEST(!room_allowed(f, "!a:x"));
}

BOOST_AUTO_TEST_CASE(stored_filters_resolve_by_id_per_user) {
  haven::test::TestStore ts;
  std::string id;
  ts.write([&](storage::WriteTxn& txn) {
    auto r = store_filter(txn, "@alice:x", R"({"room":{"timeline":{"limit":7}}})");
    BOOST_REQUIRE(r.ok());
    id = *r;
    return storage::Status::ok_status();
  });
  BOOST_TEST(!id.empty());
  BOOST_TEST(id.front() != '{');
  auto txn = ts.read();
  auto f = resolve_filter(*txn, "@alice:x", id);
  BOOST_REQUIRE(f.ok());
  BOOST_TEST(*f->room.timeline.limit == 7);
  BOOST_TEST(load_filter(*txn, "@alice:x", id).value_or("") ==
             R"({"room":{"timeline":{"limit":7}}})");
  // Another user's id space: not found.
  BOOST_TEST(resolve_filter(*txn, "@bob:x", id).error().status == 404);
  BOOST_TEST(resolve_filter(*txn, "@alice:x", "999999").error().errcode == "M_NOT_FOUND");
  BOOST_TEST(resolve_filter(*txn, "@alice:x", "abc").error().errcode == "M_NOT_FOUND");
  BOOST_TEST(resolve_filter(*txn, "@alice:x", "-1").error().errcode == "M_NOT_FOUND");
  BOOST_TEST(!load_filter(*txn, "@alice:x", "123456789012345678901234").has_value());
}

BOOST_AUTO_TEST_CASE(filter_ids_are_distinct) {
  haven::test::TestStore ts;
  std::vector<std::string> ids;
  ts.write([&](storage::WriteTxn& txn) {
    for (int i = 0; i < 3; ++i) ids.push_back(store_filter(txn, "@alice:x", "{}").value());
    return storage::Status::ok_status();
  });
  BOOST_TEST(ids[0] != ids[1]);
  BOOST_TEST(ids[1] != ids[2]);
}

BOOST_AUTO_TEST_CASE(inline_filters_resolve_from_json) {
  haven::test::TestStore ts;
  auto txn = ts.read();
  auto f = resolve_filter(*txn, "@alice:x", R"({"room":{"include_leave":true}})");
  BOOST_REQUIRE(f.ok());
  BOOST_TEST(f->room.include_leave);
  BOOST_TEST(resolve_filter(*txn, "@alice:x", "{bad").error().errcode == "M_NOT_JSON");
  BOOST_TEST(resolve_filter(*txn, "@alice:x", R"({"room":1})").error().errcode == "M_BAD_JSON");
  BOOST_TEST(resolve_filter(*txn, "@alice:x", "").ok());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::sync
