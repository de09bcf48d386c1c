#include "homeserver/push/push_rules.h"

#include <boost/test/unit_test.hpp>
#include <functional>

#include "homeserver/base/json.h"
#include "tests/unit/storage/test_util.h"

namespace haven::push {

namespace {

const std::string kMe = "@alice:a.org";

rapidjson::Document doc(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  BOOST_REQUIRE(!d.HasParseError());
  return d;
}

std::vector<std::string> ids(const std::vector<Rule>& rules) {
  std::vector<std::string> out;
  for (const Rule& r : rules) out.push_back(r.rule_id);
  return out;
}

std::string errcode(const Status& s) { return s.ok() ? "ok" : s.error().errcode; }

Rule user_rule(Kind kind, const std::string& id,
               const std::string& body = R"({"actions":["notify"]})") {
  auto r = parse_rule_body(kind, id, doc(body));
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  return std::move(r.value());
}

// A store in a temp directory; apply() runs one change like a Store job does.
struct StoredRules {
  storage::test::TempDir dir;
  std::unique_ptr<storage::LmdbStore> store =
      storage::test::open_store(storage::test::small_options(dir));

  Status apply(const std::function<Status(storage::WriteTxn&)>& fn) {
    Status out;
    auto s = store->run([&](storage::WriteTxn& txn) {
      out = fn(txn);
      return out.ok() ? storage::Status::ok_status() : storage::Status::aborted("refused");
    });
    if (out.ok()) BOOST_REQUIRE(s.ok());
    return out;
  }
  Status put(Kind kind, const std::string& id, Position where = {},
             const std::string& body = R"({"actions":["notify"]})") {
    return apply([&](storage::WriteTxn& txn) {
      return put_rule(txn, kMe, kind, user_rule(kind, id, body), where);
    });
  }
  Ruleset rules() {
    auto txn = store->begin_read();
    return load_rules(*txn, kMe);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(defaults)

BOOST_AUTO_TEST_CASE(default_rules_follow_the_spec_order) {
  Ruleset r = default_rules(kMe);
  using V = std::vector<std::string>;
  BOOST_TEST(ids(r.of(Kind::kOverride)) ==
             (V{".m.rule.master", ".m.rule.suppress_notices", ".m.rule.invite_for_me",
                ".m.rule.member_event", ".m.rule.is_user_mention", ".m.rule.contains_display_name",
                ".m.rule.is_room_mention", ".m.rule.roomnotif", ".m.rule.tombstone",
                ".m.rule.reaction", ".m.rule.room.server_acl", ".m.rule.suppress_edits"}));
  BOOST_TEST(ids(r.of(Kind::kContent)) == (V{".m.rule.contains_user_name"}));
  BOOST_TEST(r.of(Kind::kContent)[0].pattern == "alice");
  BOOST_TEST(ids(r.of(Kind::kUnderride)) ==
             (V{".m.rule.call", ".m.rule.encrypted_room_one_to_one", ".m.rule.room_one_to_one",
                ".m.rule.message", ".m.rule.encrypted"}));
  BOOST_TEST(r.of(Kind::kRoom).empty());
  BOOST_TEST(r.of(Kind::kSender).empty());
  BOOST_TEST(!r.of(Kind::kOverride)[0].enabled);
  for (Kind k : kAllKinds) {
    for (const Rule& rule : r.of(k)) BOOST_TEST(rule.is_default);
  }
}

BOOST_AUTO_TEST_CASE(defaults_as_json_match_the_spec_definitions) {
  auto d = ruleset_to_json(default_rules(kMe));
  const auto& invite = d["override"][2];
  BOOST_TEST(json::to_string(invite) ==
             R"({"rule_id":".m.rule.invite_for_me","default":true,"enabled":true,"conditions":[)"
             R"({"kind":"event_match","key":"type","pattern":"m.room.member"},)"
             R"({"kind":"event_match","key":"content.membership","pattern":"invite"},)"
             R"({"kind":"event_match","key":"state_key","pattern":"@alice:a.org"}],)"
             R"("actions":["notify",{"set_tweak":"sound","value":"default"}]})");
  const auto& mention = d["override"][4];
  BOOST_TEST(json::to_string(mention) ==
             R"({"rule_id":".m.rule.is_user_mention","default":true,"enabled":true,"conditions":[)"
             R"({"kind":"event_property_contains","key":"content.m\\.mentions.user_ids",)"
             R"("value":"@alice:a.org"}],"actions":["notify",{"set_tweak":"sound","value":)"
             R"("default"},{"set_tweak":"highlight"}]})");
  const auto& room_mention = d["override"][6];
  BOOST_TEST(json::to_string(room_mention["conditions"][0]) ==
             R"({"kind":"event_property_is","key":"content.m\\.mentions.room","value":true})");
  BOOST_TEST(json::to_string(d["underride"][1]["conditions"][0]) ==
             R"({"kind":"room_member_count","is":"2"})");
  BOOST_TEST(json::to_string(d["content"][0]) ==
             R"({"rule_id":".m.rule.contains_user_name","default":true,"enabled":true,)"
             R"("pattern":"alice","actions":["notify",{"set_tweak":"sound","value":"default"},)"
             R"({"set_tweak":"highlight"}]})");
  BOOST_TEST(d["room"].IsArray());
  BOOST_TEST(d["sender"].IsArray());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(client_input)

BOOST_AUTO_TEST_CASE(actions_accept_notify_and_tweaks_and_drop_historical_ones) {
  auto a = parse_actions(doc(
      R"(["notify","dont_notify","coalesce",{"set_tweak":"sound","value":"bing"},{"set_tweak":"highlight"},{"set_tweak":"x","value":{"a":1}}])"));
  BOOST_REQUIRE(a.ok());
  BOOST_TEST(a->size() == 4u);
  BOOST_TEST((*a)[1].tweak == "sound");
  BOOST_TEST((*a)[1].value_json == "\"bing\"");
  BOOST_TEST((*a)[2].value_json.empty());
  rapidjson::Document out;
  BOOST_TEST(json::to_string(actions_to_json(*a, out.GetAllocator())) ==
             R"(["notify",{"set_tweak":"sound","value":"bing"},{"set_tweak":"highlight"},)"
             R"({"set_tweak":"x","value":{"a":1}}])");
}

BOOST_AUTO_TEST_CASE(bad_actions_are_refused) {
  BOOST_TEST(parse_actions(doc(R"({"notify":1})")).error().errcode == "M_BAD_JSON");
  BOOST_TEST(parse_actions(doc(R"(["explode"])")).error().errcode == "M_INVALID_PARAM");
  BOOST_TEST(parse_actions(doc(R"([1])")).error().errcode == "M_INVALID_PARAM");
  BOOST_TEST(parse_actions(doc(R"([{"value":1}])")).error().errcode == "M_INVALID_PARAM");
  BOOST_TEST(parse_actions(doc(R"([{"set_tweak":1}])")).error().errcode == "M_INVALID_PARAM");
}

BOOST_AUTO_TEST_CASE(rule_ids_a_client_may_create) {
  BOOST_TEST(errcode(check_new_rule_id(Kind::kOverride, "mine")) == "ok");
  BOOST_TEST(errcode(check_new_rule_id(Kind::kOverride, ".m.rule.master")) == "M_INVALID_PARAM");
  BOOST_TEST(errcode(check_new_rule_id(Kind::kOverride, "a/b")) == "M_INVALID_PARAM");
  BOOST_TEST(errcode(check_new_rule_id(Kind::kOverride, "a\\b")) == "M_INVALID_PARAM");
  BOOST_TEST(errcode(check_new_rule_id(Kind::kRoom, "!r:a.org")) == "ok");
  BOOST_TEST(errcode(check_new_rule_id(Kind::kRoom, "@u:a.org")) == "M_INVALID_PARAM");
  BOOST_TEST(errcode(check_new_rule_id(Kind::kSender, "@u:a.org")) == "ok");
  BOOST_TEST(errcode(check_new_rule_id(Kind::kSender, "nobody")) == "M_INVALID_PARAM");
}

BOOST_AUTO_TEST_CASE(rule_bodies_by_kind) {
  auto content = parse_rule_body(Kind::kContent, "cake", doc(R"({"actions":[],"pattern":"cake"})"));
  BOOST_REQUIRE(content.ok());
  BOOST_TEST(content->pattern == "cake");
  BOOST_TEST(content->enabled);
  BOOST_TEST(parse_rule_body(Kind::kContent, "c", doc(R"({"actions":[]})")).error().errcode ==
             "M_MISSING_PARAM");
  BOOST_TEST(parse_rule_body(Kind::kOverride, "o", doc(R"({})")).error().errcode ==
             "M_MISSING_PARAM");
  BOOST_TEST(parse_rule_body(Kind::kOverride, "o", doc(R"({"actions":[],"conditions":{}})"))
                 .error()
                 .errcode == "M_BAD_JSON");
  BOOST_TEST(parse_rule_body(Kind::kOverride, "o",
                             doc(R"({"actions":[],"conditions":[{"kind":"event_match"}]})"))
                 .error()
                 .errcode == "M_INVALID_PARAM");
  BOOST_TEST(parse_rule_body(
                 Kind::kOverride, "o",
                 doc(R"({"actions":[],"conditions":[{"kind":"room_member_count","is":"lots"}]})"))
                 .error()
                 .errcode == "M_INVALID_PARAM");
  BOOST_TEST(
      parse_rule_body(
          Kind::kOverride, "o",
          doc(R"({"actions":[],"conditions":[{"kind":"event_property_is","key":"a","value":[1]}]})"))
          .error()
          .errcode == "M_INVALID_PARAM");
}

BOOST_AUTO_TEST_CASE(unknown_conditions_round_trip) {
  auto r = parse_rule_body(
      Kind::kOverride, "o",
      doc(R"({"actions":[],"conditions":[{"kind":"org.example.new","x":[1,2]},{"kind":"contains_display_name"}]})"));
  BOOST_REQUIRE(r.ok());
  rapidjson::Document out;
  auto v = rule_to_json(Kind::kOverride, *r, out.GetAllocator());
  BOOST_TEST(json::to_string(v["conditions"]) ==
             R"([{"kind":"org.example.new","x":[1,2]},{"kind":"contains_display_name"}])");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(stored)

BOOST_AUTO_TEST_CASE(new_rules_go_first_after_master) {
  StoredRules s;
  BOOST_TEST(errcode(s.put(Kind::kOverride, "one")) == "ok");
  BOOST_TEST(errcode(s.put(Kind::kOverride, "two")) == "ok");
  auto over = s.rules().of(Kind::kOverride);
  BOOST_TEST(over[0].rule_id == ".m.rule.master");
  BOOST_TEST(over[1].rule_id == "two");
  BOOST_TEST(over[2].rule_id == "one");
  BOOST_TEST(over[3].rule_id == ".m.rule.suppress_notices");
  BOOST_TEST(!over[1].is_default);
  BOOST_TEST(over[1].enabled);
}

BOOST_AUTO_TEST_CASE(before_and_after_place_rules) {
  StoredRules s;
  const std::string body = R"({"actions":["notify"],"pattern":"x"})";
  BOOST_TEST(errcode(s.put(Kind::kContent, "a", {}, body)) == "ok");
  BOOST_TEST(errcode(s.put(Kind::kContent, "b", {std::nullopt, std::string("a")}, body)) == "ok");
  BOOST_TEST(errcode(s.put(Kind::kContent, "c", {std::string("a"), std::nullopt}, body)) == "ok");
  // before wins over after
  BOOST_TEST(errcode(s.put(Kind::kContent, "d", {std::string("b"), std::string("c")}, body)) ==
             "ok");
  using V = std::vector<std::string>;
  BOOST_TEST(ids(s.rules().of(Kind::kContent)) ==
             (V{"c", "a", "d", "b", ".m.rule.contains_user_name"}));
  // Moving an existing rule.
  BOOST_TEST(errcode(s.put(Kind::kContent, "c", {std::nullopt, std::string("b")}, body)) == "ok");
  BOOST_TEST(ids(s.rules().of(Kind::kContent)) ==
             (V{"a", "d", "b", "c", ".m.rule.contains_user_name"}));
  BOOST_TEST(errcode(s.put(Kind::kContent, "e", {std::string("nope"), std::nullopt}, body)) ==
             "M_UNKNOWN");
  BOOST_TEST(errcode(s.put(Kind::kContent, "e",
                           {std::string(".m.rule.contains_user_name"), std::nullopt}, body)) ==
             "M_INVALID_PARAM");
  BOOST_TEST(ids(s.rules().of(Kind::kContent)).size() == 5u);
}

BOOST_AUTO_TEST_CASE(updating_keeps_place_and_enabled_state) {
  StoredRules s;
  BOOST_TEST(errcode(s.put(Kind::kUnderride, "a")) == "ok");
  BOOST_TEST(errcode(s.put(Kind::kUnderride, "b")) == "ok");
  BOOST_TEST(errcode(s.apply([](storage::WriteTxn& t) {
               return set_rule_enabled(t, kMe, Kind::kUnderride, "a", false);
             })) == "ok");
  BOOST_TEST(errcode(s.put(Kind::kUnderride, "a", {}, R"({"actions":[]})")) == "ok");
  auto under = s.rules().of(Kind::kUnderride);
  BOOST_TEST(under[0].rule_id == "b");
  BOOST_TEST(under[1].rule_id == "a");
  BOOST_TEST(!under[1].enabled);
  BOOST_TEST(under[1].actions.empty());
}

BOOST_AUTO_TEST_CASE(defaults_can_be_disabled_and_given_actions_but_not_deleted) {
  StoredRules s;
  BOOST_TEST(errcode(s.apply([](storage::WriteTxn& t) {
               return set_rule_enabled(t, kMe, Kind::kOverride, ".m.rule.master", true);
             })) == "ok");
  BOOST_TEST(errcode(s.apply([](storage::WriteTxn& t) {
               return set_rule_actions(t, kMe, Kind::kUnderride, ".m.rule.message", {});
             })) == "ok");
  Ruleset r = s.rules();
  BOOST_TEST(r.find(Kind::kOverride, ".m.rule.master")->enabled);
  BOOST_TEST(r.find(Kind::kUnderride, ".m.rule.message")->actions.empty());
  BOOST_TEST(r.find(Kind::kUnderride, ".m.rule.message")->is_default);
  BOOST_TEST(errcode(s.apply([](storage::WriteTxn& t) {
               return delete_rule(t, kMe, Kind::kUnderride, ".m.rule.message");
             })) == "M_INVALID_PARAM");
  BOOST_TEST(errcode(s.apply([](storage::WriteTxn& t) {
               return set_rule_enabled(t, kMe, Kind::kUnderride, ".m.rule.master", true);
             })) == "M_NOT_FOUND");
  BOOST_TEST(errcode(s.apply([](storage::WriteTxn& t) {
               return set_rule_enabled(t, kMe, Kind::kOverride, ".m.rule.nope", true);
             })) == "M_NOT_FOUND");
}

BOOST_AUTO_TEST_CASE(deleting_user_rules) {
  StoredRules s;
  BOOST_TEST(errcode(s.put(Kind::kSender, "@spam:a.org", {}, R"({"actions":[]})")) == "ok");
  BOOST_TEST(s.rules().of(Kind::kSender).size() == 1u);
  auto del = [&](const std::string& id) {
    return s.apply([&](storage::WriteTxn& t) { return delete_rule(t, kMe, Kind::kSender, id); });
  };
  BOOST_TEST(errcode(del("@spam:a.org")) == "ok");
  BOOST_TEST(s.rules().of(Kind::kSender).empty());
  BOOST_TEST(errcode(del("@spam:a.org")) == "M_NOT_FOUND");
}

BOOST_AUTO_TEST_CASE(rules_are_per_user) {
  StoredRules s;
  BOOST_TEST(errcode(s.put(Kind::kOverride, "mine")) == "ok");
  auto txn = s.store->begin_read();
  Ruleset other = load_rules(*txn, "@bob:a.org");
  BOOST_TEST(!other.find(Kind::kOverride, "mine"));
  BOOST_TEST(other.find(Kind::kContent, ".m.rule.contains_user_name")->pattern == "bob");
}

BOOST_AUTO_TEST_CASE(account_data_event_holds_the_merged_rules) {
  StoredRules s;
  BOOST_TEST(errcode(s.put(Kind::kRoom, "!quiet:a.org", {}, R"({"actions":[]})")) == "ok");
  auto txn = s.store->begin_read();
  auto d = push_rules_account_data(*txn, kMe);
  BOOST_TEST(json::get_string(d, "type") == "m.push_rules");
  const auto& global = d["content"]["global"];
  BOOST_TEST(global["room"].Size() == 1u);
  BOOST_TEST(json::to_string(global["room"][0]) ==
             R"({"rule_id":"!quiet:a.org","default":false,"enabled":true,"actions":[]})");
  BOOST_TEST(global["override"].Size() == 12u);
  BOOST_TEST(global["underride"].Size() == 5u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::push
