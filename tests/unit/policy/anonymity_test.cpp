// Unit tests of homeserver/policy/anonymity: what a non-contact sees of a member event (R12).
#include "homeserver/policy/anonymity.h"

#include <boost/test/unit_test.hpp>

#include "tests/unit/support/test_store.h"

namespace haven::policy {
namespace {

json::Document content(const char* displayname, bool marker) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "membership", "join", a);
  json::set(d, "avatar_url", "mxc://x/face", a);
  if (displayname) json::set(d, "displayname", displayname, a);
  if (marker) json::set(d, kNicknameMarker, true, a);
  return d;
}

BOOST_AUTO_TEST_CASE(real_names_become_anonymous_and_avatars_go) {
  auto c = content("Carla Client", false);
  hide_identity(c, c.GetAllocator());
  BOOST_TEST(json::get_string(c, "displayname") == "Anonymous");
  BOOST_TEST(!c.HasMember("avatar_url"));
  BOOST_TEST(json::get_string(c, "membership") == "join");
}

BOOST_AUTO_TEST_CASE(marked_nicknames_stay) {
  auto c = content("Sunflower", true);
  hide_identity(c, c.GetAllocator());
  BOOST_TEST(json::get_string(c, "displayname") == "Sunflower");
  BOOST_TEST(!c.HasMember("avatar_url"));
}

BOOST_AUTO_TEST_CASE(no_name_at_all_is_anonymous_too) {
  auto c = content(nullptr, true);
  hide_identity(c, c.GetAllocator());
  BOOST_TEST(json::get_string(c, "displayname") == "Anonymous");
}

BOOST_AUTO_TEST_CASE(nothing_is_hidden_without_the_care_rules_or_from_oneself) {
  test::TestStore db;
  auto txn = db.read();
  BOOST_TEST(!must_hide_identity(nullptr, *txn, "@a:x", "@b:x"));
  CarePolicy rules(conf::Care{}, "x");
  BOOST_TEST(!must_hide_identity(&rules, *txn, "@a:x", "@a:x"));
  BOOST_TEST(must_hide_identity(&rules, *txn, "@a:x", "@b:x"));
}

}  // namespace
}  // namespace haven::policy
