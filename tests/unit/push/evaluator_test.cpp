#include "homeserver/push/evaluator.h"

#include <boost/test/unit_test.hpp>

#include "homeserver/rooms/room_version.h"

namespace haven::push {

namespace {

const std::string kMe = "@alice:a.org";
const std::string kBob = "@bob:a.org";

rooms::EventPtr event(const std::string& json) {
  auto ev = rooms::Event::from_stored(json, "$ev", *rooms::find_room_version("11"));
  BOOST_REQUIRE_MESSAGE(ev, "bad test event: " << json);
  return ev;
}

// An m.room.message from bob in !r:a.org with `content` (JSON text).
rooms::EventPtr message(const std::string& content, const std::string& sender = kBob,
                        const std::string& type = "m.room.message") {
  return event(R"({"type":")" + type + R"(","sender":")" + sender +
               R"(","room_id":"!r:a.org","content":)" + content + "}");
}

rapidjson::Document doc(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  BOOST_REQUIRE(!d.HasParseError());
  return d;
}

PushContext group_room(int64_t members = 5) {
  PushContext ctx;
  ctx.user_id = kMe;
  ctx.display_name = "Alice Liddell";
  ctx.room_member_count = members;
  return ctx;
}

Condition cond(const std::string& kind, const std::string& key = "",
               const std::string& pattern = "", Scalar value = nullptr,
               const std::string& is = "") {
  Condition c;
  c.kind = kind;
  c.key = key;
  c.pattern = pattern;
  c.value = std::move(value);
  c.is = is;
  return c;
}

PushResult eval_defaults(const rooms::Event& ev, const PushContext& ctx) {
  return evaluate(default_rules(ctx.user_id), ev, ctx);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(glob)

BOOST_AUTO_TEST_CASE(star_and_question_mark_match_whole_value) {
  BOOST_TEST(glob_match("lunc?*", "Lunch plans", false));
  BOOST_TEST(glob_match("lunc?*", "LUNCH", false));
  BOOST_TEST(!glob_match("lunc?*", " lunch", false));
  BOOST_TEST(!glob_match("lunc?*", "lunc", false));
  BOOST_TEST(glob_match("*", "", false));
  BOOST_TEST(glob_match("", "", false));
  BOOST_TEST(!glob_match("", "x", false));
  BOOST_TEST(glob_match("m.room.*", "m.room.message", false));
  BOOST_TEST(!glob_match("m.room", "m.room.message", false));
  BOOST_TEST(glob_match("a**b", "ab", false));
}

BOOST_AUTO_TEST_CASE(question_mark_matches_one_code_point_not_one_byte) {
  BOOST_TEST(glob_match("caf?", "café", false));
  BOOST_TEST(!glob_match("caf??", "café", false));
}

BOOST_AUTO_TEST_CASE(case_insensitive_beyond_ascii) {
  BOOST_TEST(glob_match("ÉCOLE", "école", false));
  BOOST_TEST(glob_match("привет", "ПРИВЕТ", false));
}

BOOST_AUTO_TEST_CASE(body_matches_substrings_at_word_boundaries) {
  BOOST_TEST(glob_match("ex*ple", "An example event.", true));
  BOOST_TEST(glob_match("ex*ple", "exple", true));
  BOOST_TEST(glob_match("ex*ple", "An exciting triple-whammy", true));
  BOOST_TEST(glob_match("cake", "I like cake!", true));
  BOOST_TEST(glob_match("cake", "CAKE", true));
  BOOST_TEST(!glob_match("cake", "cupcakes", true));
  BOOST_TEST(!glob_match("cake", "cake_shop", true));
  BOOST_TEST(glob_match("cake", "cake-shop", true));
  BOOST_TEST(!glob_match("cake", "pancake", true));
  BOOST_TEST(!glob_match("alice", "alice2", true));
  BOOST_TEST(glob_match("alice", "hi alice: are you there?", true));
}

BOOST_AUTO_TEST_CASE(literal_mode_treats_wildcards_as_characters) {
  BOOST_TEST(glob_match("A*", "hello A* there", true, true));
  BOOST_TEST(!glob_match("A*", "hello Ab there", true, true));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(property_paths)

BOOST_AUTO_TEST_CASE(dots_and_backslashes_escape) {
  using V = std::vector<std::string>;
  BOOST_TEST(split_property_path("content.body") == (V{"content", "body"}));
  BOOST_TEST(split_property_path("content.m\\.relates_to.rel_type") ==
             (V{"content", "m.relates_to", "rel_type"}));
  BOOST_TEST(split_property_path("content.m\\\\foo") == (V{"content", "m\\foo"}));
  BOOST_TEST(split_property_path("content.m\\x") == (V{"content", "m\\x"}));
}

BOOST_AUTO_TEST_CASE(walks_nested_objects) {
  auto d = doc(R"({"content":{"m.relates_to":{"rel_type":"m.replace"},"a":[1]}})");
  auto* v = property_at(d, "content.m\\.relates_to.rel_type");
  BOOST_REQUIRE(v);
  BOOST_TEST(v->GetString() == std::string("m.replace"));
  BOOST_TEST(!property_at(d, "content.m.relates_to.rel_type"));
  BOOST_TEST(!property_at(d, "content.a.b"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(conditions)

BOOST_AUTO_TEST_CASE(event_match_needs_a_string_property) {
  auto ctx = group_room();
  auto topic = doc(R"({"type":"m.room.topic","content":{"topic":"Lunch plans","n":1}})");
  BOOST_TEST(condition_matches(cond("event_match", "content.topic", "lunc?*"), topic, ctx));
  BOOST_TEST(!condition_matches(cond("event_match", "content.n", "*"), topic, ctx));
  BOOST_TEST(!condition_matches(cond("event_match", "content.missing", "*"), topic, ctx));
  BOOST_TEST(!condition_matches(cond("event_match", "content", "*"), topic, ctx));
}

BOOST_AUTO_TEST_CASE(event_match_on_body_uses_word_boundaries) {
  auto ctx = group_room();
  auto d = doc(R"({"content":{"body":"time for tea","other":"time for tea"}})");
  BOOST_TEST(condition_matches(cond("event_match", "content.body", "tea"), d, ctx));
  BOOST_TEST(!condition_matches(cond("event_match", "content.other", "tea"), d, ctx));
}

BOOST_AUTO_TEST_CASE(event_property_is_matches_exact_type_and_value) {
  auto ctx = group_room();
  auto d = doc(R"({"content":{"m.federate":true,"n":1,"s":"true","z":null,"f":1.0}})");
  BOOST_TEST(
      condition_matches(cond("event_property_is", "content.m\\.federate", "", true), d, ctx));
  BOOST_TEST(!condition_matches(cond("event_property_is", "content.s", "", true), d, ctx));
  BOOST_TEST(!condition_matches(cond("event_property_is", "content.n", "", true), d, ctx));
  BOOST_TEST(condition_matches(cond("event_property_is", "content.n", "", int64_t{1}), d, ctx));
  BOOST_TEST(!condition_matches(cond("event_property_is", "content.f", "", int64_t{1}), d, ctx));
  BOOST_TEST(
      condition_matches(cond("event_property_is", "content.s", "", std::string("true")), d, ctx));
  BOOST_TEST(condition_matches(cond("event_property_is", "content.z", "", nullptr), d, ctx));
  BOOST_TEST(!condition_matches(cond("event_property_is", "content.absent", "", nullptr), d, ctx));
}

BOOST_AUTO_TEST_CASE(event_property_contains_needs_an_array_element) {
  auto ctx = group_room();
  auto d = doc(R"({"content":{"alt_aliases":["#somewhere:example.org","#myroom:example.com"],
                              "s":"#myroom:example.com"}})");
  BOOST_TEST(condition_matches(cond("event_property_contains", "content.alt_aliases", "",
                                    std::string("#myroom:example.com")),
                               d, ctx));
  BOOST_TEST(!condition_matches(
      cond("event_property_contains", "content.alt_aliases", "", std::string(":example.com")), d,
      ctx));
  BOOST_TEST(!condition_matches(
      cond("event_property_contains", "content.s", "", std::string("#myroom:example.com")), d,
      ctx));
}

BOOST_AUTO_TEST_CASE(contains_display_name_matches_whole_words) {
  auto ctx = group_room();
  auto yes = doc(R"({"content":{"body":"hey alice liddell, lunch?"}})");
  auto no = doc(R"({"content":{"body":"hey alice liddells"}})");
  BOOST_TEST(condition_matches(cond("contains_display_name"), yes, ctx));
  BOOST_TEST(!condition_matches(cond("contains_display_name"), no, ctx));
  ctx.display_name.clear();
  BOOST_TEST(!condition_matches(cond("contains_display_name"), yes, ctx));
}

BOOST_AUTO_TEST_CASE(room_member_count_operators) {
  auto d = doc("{}");
  auto ctx = group_room(10);
  auto is = [&](const std::string& s) {
    return condition_matches(cond("room_member_count", "", "", nullptr, s), d, ctx);
  };
  BOOST_TEST(is("10"));
  BOOST_TEST(is("==10"));
  BOOST_TEST(!is("==9"));
  BOOST_TEST(is("<11"));
  BOOST_TEST(!is("<10"));
  BOOST_TEST(is("<=10"));
  BOOST_TEST(is(">9"));
  BOOST_TEST(!is(">10"));
  BOOST_TEST(is(">=10"));
  BOOST_TEST(!is(">=11"));
  BOOST_TEST(!is(""));
  BOOST_TEST(!is("ten"));
  BOOST_TEST(!is("=10"));
}

BOOST_AUTO_TEST_CASE(sender_notification_permission_uses_notification_levels) {
  auto d = doc("{}");
  auto ctx = group_room();
  ctx.sender_power_level = 49;
  BOOST_TEST(!condition_matches(cond("sender_notification_permission", "room"), d, ctx));
  ctx.sender_power_level = 50;
  BOOST_TEST(condition_matches(cond("sender_notification_permission", "room"), d, ctx));
  ctx.notification_levels["room"] = 0;
  ctx.sender_power_level = 0;
  BOOST_TEST(condition_matches(cond("sender_notification_permission", "room"), d, ctx));
}

BOOST_AUTO_TEST_CASE(unknown_condition_never_matches) {
  auto d = doc("{}");
  BOOST_TEST(!condition_matches(cond("org.example.future"), d, group_room()));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(default_rules_evaluation)

BOOST_AUTO_TEST_CASE(group_message_notifies_without_sound) {
  auto r = eval_defaults(*message(R"({"msgtype":"m.text","body":"hello all"})"), group_room());
  BOOST_TEST(r.notify);
  BOOST_TEST(!r.highlight);
  BOOST_TEST(!r.sound.has_value());
  BOOST_TEST(r.rule_id == ".m.rule.message");
}

BOOST_AUTO_TEST_CASE(one_to_one_message_notifies_with_sound) {
  auto r = eval_defaults(*message(R"({"msgtype":"m.text","body":"hi"})"), group_room(2));
  BOOST_TEST(r.notify);
  BOOST_TEST(r.rule_id == ".m.rule.room_one_to_one");
  BOOST_TEST(r.sound.value_or("") == "default");
}

BOOST_AUTO_TEST_CASE(encrypted_one_to_one_and_group) {
  auto enc =
      message(R"({"algorithm":"m.megolm.v1.aes-sha2","ciphertext":"x"})", kBob, "m.room.encrypted");
  auto dm = eval_defaults(*enc, group_room(2));
  BOOST_TEST(dm.rule_id == ".m.rule.encrypted_room_one_to_one");
  BOOST_TEST(dm.sound.value_or("") == "default");
  auto group = eval_defaults(*enc, group_room(3));
  BOOST_TEST(group.rule_id == ".m.rule.encrypted");
  BOOST_TEST(group.notify);
  BOOST_TEST(!group.sound.has_value());
}

BOOST_AUTO_TEST_CASE(own_events_never_notify) {
  auto r =
      eval_defaults(*message(R"({"msgtype":"m.text","body":"@room alice"})", kMe), group_room(2));
  BOOST_TEST(!r.notify);
  BOOST_TEST(!r.highlight);
  BOOST_TEST(r.rule_id.empty());
}

BOOST_AUTO_TEST_CASE(notices_edits_reactions_and_members_are_silent) {
  auto ctx = group_room(2);
  BOOST_TEST(!eval_defaults(*message(R"({"msgtype":"m.notice","body":"bot"})"), ctx).notify);
  auto edit = message(
      R"({"msgtype":"m.text","body":"* fixed","m.relates_to":{"rel_type":"m.replace","event_id":"$x"}})");
  auto r = eval_defaults(*edit, ctx);
  BOOST_TEST(!r.notify);
  BOOST_TEST(r.rule_id == ".m.rule.suppress_edits");
  auto reaction =
      message(R"({"m.relates_to":{"rel_type":"m.annotation","key":"👍"}})", kBob, "m.reaction");
  BOOST_TEST(eval_defaults(*reaction, ctx).rule_id == ".m.rule.reaction");
  BOOST_TEST(!eval_defaults(*reaction, ctx).notify);
  auto join = event(
      R"({"type":"m.room.member","state_key":"@bob:a.org","sender":"@bob:a.org","room_id":"!r:a.org","content":{"membership":"join"}})");
  BOOST_TEST(eval_defaults(*join, ctx).rule_id == ".m.rule.member_event");
  BOOST_TEST(!eval_defaults(*join, ctx).notify);
}

BOOST_AUTO_TEST_CASE(invite_for_me_notifies_only_the_invitee) {
  auto invite = event(
      R"({"type":"m.room.member","state_key":"@alice:a.org","sender":"@bob:a.org","room_id":"!r:a.org","content":{"membership":"invite"}})");
  auto r = eval_defaults(*invite, group_room());
  BOOST_TEST(r.rule_id == ".m.rule.invite_for_me");
  BOOST_TEST(r.notify);
  BOOST_TEST(r.sound.value_or("") == "default");
  auto other = event(
      R"({"type":"m.room.member","state_key":"@carol:a.org","sender":"@bob:a.org","room_id":"!r:a.org","content":{"membership":"invite"}})");
  BOOST_TEST(!eval_defaults(*other, group_room()).notify);
}

BOOST_AUTO_TEST_CASE(user_mention_highlights) {
  auto r = eval_defaults(
      *message(R"({"msgtype":"m.text","body":"hey","m.mentions":{"user_ids":["@alice:a.org"]}})"),
      group_room());
  BOOST_TEST(r.rule_id == ".m.rule.is_user_mention");
  BOOST_TEST(r.notify);
  BOOST_TEST(r.highlight);
  BOOST_TEST(r.sound.value_or("") == "default");
}

BOOST_AUTO_TEST_CASE(room_mention_needs_sender_permission) {
  auto ev = message(R"({"msgtype":"m.text","body":"all","m.mentions":{"room":true}})");
  auto ctx = group_room();
  ctx.sender_power_level = 100;
  auto r = eval_defaults(*ev, ctx);
  BOOST_TEST(r.rule_id == ".m.rule.is_room_mention");
  BOOST_TEST(r.highlight);
  ctx.sender_power_level = 0;
  r = eval_defaults(*ev, ctx);
  BOOST_TEST(r.rule_id == ".m.rule.message");
  BOOST_TEST(!r.highlight);
}

BOOST_AUTO_TEST_CASE(display_name_mention_in_body_highlights) {
  auto r =
      eval_defaults(*message(R"({"msgtype":"m.text","body":"Alice Liddell: tea?"})"), group_room());
  BOOST_TEST(r.rule_id == ".m.rule.contains_display_name");
  BOOST_TEST(r.highlight);
  BOOST_TEST(r.notify);
}

BOOST_AUTO_TEST_CASE(user_name_mention_in_body_highlights) {
  auto r = eval_defaults(*message(R"({"msgtype":"m.text","body":"ping alice!"})"), group_room());
  BOOST_TEST(r.rule_id == ".m.rule.contains_user_name");
  BOOST_TEST(r.highlight);
  auto part =
      eval_defaults(*message(R"({"msgtype":"m.text","body":"malice aforethought"})"), group_room());
  BOOST_TEST(!part.highlight);
}

BOOST_AUTO_TEST_CASE(legacy_body_mentions_off_when_event_has_m_mentions) {
  auto ctx = group_room();
  ctx.sender_power_level = 100;
  auto r = eval_defaults(
      *message(R"({"msgtype":"m.text","body":"Alice Liddell alice @room","m.mentions":{}})"), ctx);
  BOOST_TEST(r.rule_id == ".m.rule.message");
  BOOST_TEST(!r.highlight);
  BOOST_TEST(r.notify);
}

BOOST_AUTO_TEST_CASE(legacy_room_notification) {
  auto ctx = group_room();
  ctx.sender_power_level = 50;
  auto r = eval_defaults(*message(R"({"msgtype":"m.text","body":"@room lunch"})"), ctx);
  BOOST_TEST(r.rule_id == ".m.rule.roomnotif");
  BOOST_TEST(r.highlight);
}

BOOST_AUTO_TEST_CASE(tombstone_highlights_only_as_state) {
  auto tomb = event(
      R"({"type":"m.room.tombstone","state_key":"","sender":"@bob:a.org","room_id":"!r:a.org","content":{"body":"moved","replacement_room":"!n:a.org"}})");
  auto r = eval_defaults(*tomb, group_room());
  BOOST_TEST(r.rule_id == ".m.rule.tombstone");
  BOOST_TEST(r.highlight);
  auto not_state = message(R"({"body":"x"})", kBob, "m.room.tombstone");
  BOOST_TEST(!eval_defaults(*not_state, group_room()).notify);
}

BOOST_AUTO_TEST_CASE(call_invite_rings) {
  auto r = eval_defaults(*message(R"({"call_id":"1","version":1})", kBob, "m.call.invite"),
                         group_room());
  BOOST_TEST(r.rule_id == ".m.rule.call");
  BOOST_TEST(r.sound.value_or("") == "ring");
}

BOOST_AUTO_TEST_CASE(other_events_do_not_notify) {
  auto r = eval_defaults(*message(R"({"topic":"x"})", kBob, "m.room.topic"), group_room(2));
  BOOST_TEST(!r.notify);
  BOOST_TEST(r.rule_id.empty());
}

BOOST_AUTO_TEST_CASE(enabled_master_rule_silences_everything) {
  Ruleset rules = default_rules(kMe);
  rules.of(Kind::kOverride)[0].enabled = true;
  auto r = evaluate(rules, *message(R"({"body":"x","m.mentions":{"user_ids":["@alice:a.org"]}})"),
                    group_room());
  BOOST_TEST(r.rule_id == ".m.rule.master");
  BOOST_TEST(!r.notify);
}

BOOST_AUTO_TEST_CASE(disabled_rule_is_skipped) {
  Ruleset rules = default_rules(kMe);
  for (Rule& r : rules.of(Kind::kUnderride)) r.enabled = false;
  BOOST_TEST(!evaluate(rules, *message(R"({"body":"x"})"), group_room()).notify);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(user_rules_evaluation)

BOOST_AUTO_TEST_CASE(room_sender_and_content_rules) {
  Ruleset rules = default_rules(kMe);
  Rule mute_room;
  mute_room.rule_id = "!r:a.org";
  rules.of(Kind::kRoom).insert(rules.of(Kind::kRoom).begin(), mute_room);
  BOOST_TEST(evaluate(rules, *message(R"({"body":"x"})"), group_room()).rule_id == "!r:a.org");
  BOOST_TEST(!evaluate(rules, *message(R"({"body":"x"})"), group_room()).notify);

  Ruleset by_sender = default_rules(kMe);
  Rule loud;
  loud.rule_id = kBob;
  loud.actions = {{Action::Type::kNotify, {}, {}}, {Action::Type::kSetTweak, "highlight", "true"}};
  by_sender.of(Kind::kSender).push_back(loud);
  auto r = evaluate(by_sender, *message(R"({"body":"x"})"), group_room());
  BOOST_TEST(r.highlight);
  BOOST_TEST(
      !evaluate(by_sender, *message(R"({"body":"x"})", "@carol:a.org"), group_room()).highlight);

  Ruleset cake = default_rules(kMe);
  Rule c;
  c.rule_id = "cake";
  c.pattern = "cake*lie";
  c.actions = {{Action::Type::kNotify, {}, {}}, {Action::Type::kSetTweak, "sound", "\"cake.wav\""}};
  cake.of(Kind::kContent).insert(cake.of(Kind::kContent).begin(), c);
  auto hit = evaluate(cake, *message(R"({"body":"the cake is a lie"})"), group_room());
  BOOST_TEST(hit.rule_id == "cake");
  BOOST_TEST(hit.sound.value_or("") == "cake.wav");
}

BOOST_AUTO_TEST_CASE(highlight_tweak_false_does_not_highlight) {
  Ruleset rules;
  Rule r;
  r.rule_id = "r";
  r.actions = {{Action::Type::kNotify, {}, {}}, {Action::Type::kSetTweak, "highlight", "false"}};
  rules.of(Kind::kOverride).push_back(r);
  auto out = evaluate(rules, *message(R"({"body":"x"})"), group_room());
  BOOST_TEST(out.notify);
  BOOST_TEST(!out.highlight);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::push
