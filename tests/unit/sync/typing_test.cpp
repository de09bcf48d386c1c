// Typing: the in-memory set of typers, its positions, expiry and the m.typing events.
#include <boost/test/unit_test.hpp>

#include "homeserver/base/json.h"
#include "homeserver/sync/streams.h"

namespace haven::streams {
namespace {

std::vector<std::string> user_ids(const std::optional<Document>& ev) {
  std::vector<std::string> out;
  BOOST_REQUIRE(ev.has_value());
  BOOST_TEST(json::get_string(*ev, "type") == "m.typing");
  for (auto& u : (*ev)["content"]["user_ids"].GetArray()) out.emplace_back(u.GetString());
  return out;
}

using Users = std::vector<std::string>;

}  // namespace

BOOST_AUTO_TEST_SUITE(typing)

BOOST_AUTO_TEST_CASE(starting_and_stopping_change_the_position) {
  Typing t;
  BOOST_TEST(t.pos() == 0u);
  BOOST_TEST(t.set("!r:x", "@a:x", true, 30000, 1000));
  BOOST_TEST(t.pos() == 1u);
  BOOST_TEST(t.typers("!r:x") == Users{"@a:x"});
  BOOST_TEST(t.set("!r:x", "@a:x", false, 0, 2000));
  BOOST_TEST(t.pos() == 2u);
  BOOST_TEST(t.typers("!r:x").empty());
}

BOOST_AUTO_TEST_CASE(renewing_a_typer_is_not_a_change) {
  Typing t;
  BOOST_TEST(t.set("!r:x", "@a:x", true, 1000, 0));
  BOOST_TEST(!t.set("!r:x", "@a:x", true, 1000, 900));
  BOOST_TEST(t.pos() == 1u);
  // The renewal moved the expiry: still typing after the first timeout.
  BOOST_TEST(t.expire(1500).empty());
  BOOST_TEST(t.expire(1900) == std::set<std::string>{"!r:x"});
}

BOOST_AUTO_TEST_CASE(stopping_someone_not_typing_is_not_a_change) {
  Typing t;
  BOOST_TEST(!t.set("!r:x", "@a:x", false, 0, 0));
  BOOST_TEST(!t.typing_since("!r:x", 0).has_value());
  BOOST_TEST(t.pos() == 0u);
}

BOOST_AUTO_TEST_CASE(expiry_drops_only_expired_typers) {
  Typing t;
  t.set("!r:x", "@a:x", true, 1000, 0);
  t.set("!r:x", "@b:x", true, 5000, 0);
  t.set("!s:x", "@c:x", true, 500, 0);
  BOOST_TEST(t.expire(400).empty());
  BOOST_TEST(t.expire(1000) == (std::set<std::string>{"!r:x", "!s:x"}));
  BOOST_TEST(t.typers("!r:x") == Users{"@b:x"});
  BOOST_TEST(t.typers("!s:x").empty());
  BOOST_TEST(t.expire(4999).empty());
  BOOST_TEST(t.expire(5000) == std::set<std::string>{"!r:x"});
  BOOST_TEST(t.expire(100000).empty());
}

BOOST_AUTO_TEST_CASE(timeouts_are_capped) {
  Typing t;
  t.set("!r:x", "@a:x", true, 10 * kMaxTypingTimeoutMs, 0);
  BOOST_TEST(t.expire(kMaxTypingTimeoutMs - 1).empty());
  BOOST_TEST(t.expire(kMaxTypingTimeoutMs).size() == 1u);
  t.set("!r:x", "@a:x", true, -5, 0);
  BOOST_TEST(t.expire(0).size() == 1u);
}

BOOST_AUTO_TEST_CASE(typing_since_reports_changes_after_the_token) {
  Typing t;
  t.set("!r:x", "@b:x", true, 30000, 0);
  t.set("!r:x", "@a:x", true, 30000, 0);
  uint64_t seen = t.pos();
  BOOST_TEST(user_ids(t.typing_since("!r:x", 0)) == (Users{"@a:x", "@b:x"}));
  BOOST_TEST(!t.typing_since("!r:x", seen).has_value());
  BOOST_TEST(!t.typing_since("!other:x", 0).has_value());
  t.set("!r:x", "@a:x", false, 0, 10);
  // Someone who saw both typing learns the new, smaller set.
  BOOST_TEST(user_ids(t.typing_since("!r:x", seen)) == Users{"@b:x"});
  t.expire(40000);
  BOOST_TEST(user_ids(t.typing_since("!r:x", seen)).empty());
  // A fresh client needs no "nobody is typing".
  BOOST_TEST(!t.typing_since("!r:x", 0).has_value());
}

BOOST_AUTO_TEST_CASE(tokens_from_before_a_restart_count_as_zero) {
  Typing t;
  t.set("!r:x", "@a:x", true, 30000, 0);
  BOOST_TEST(user_ids(t.typing_since("!r:x", 5000)) == Users{"@a:x"});
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::streams
