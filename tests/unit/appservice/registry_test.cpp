// Namespace matching: anchored at the start, local users only, exclusive vs. interested.
#include "appservices/registry.h"

#include <boost/test/unit_test.hpp>

namespace haven::appservice {
namespace {

conf::AppServiceRegistration bridge(const std::string& id, bool exclusive) {
  conf::AppServiceRegistration r;
  r.id = id;
  r.as_token = "as_" + id;
  r.hs_token = "hs_" + id;
  r.sender_localpart = "_" + id + "_bot";
  r.users = {{"@_" + id + "_.*", exclusive}};
  r.aliases = {{"#_" + id + "_.*", exclusive}};
  r.rooms = {{"!bridged.*", false}};
  return r;
}

}  // namespace

BOOST_AUTO_TEST_CASE(user_namespaces_match_local_users_from_the_start) {
  AppService s(bridge("irc", true), "example.org");
  BOOST_CHECK_EQUAL(s.sender(), "@_irc_bot:example.org");
  BOOST_CHECK(s.is_interested_in_user("@_irc_alice:example.org"));
  BOOST_CHECK(s.is_interested_in_user("@_irc_bot:example.org"));
  BOOST_CHECK(!s.is_interested_in_user("@alice:example.org"));
  BOOST_CHECK(!s.is_interested_in_user("@x_irc_alice:example.org"));  // not at the start
  BOOST_CHECK(!s.is_interested_in_user("@_irc_alice:other.org"));     // not local
  BOOST_CHECK(s.is_exclusive_user("@_irc_alice:example.org"));
}

BOOST_AUTO_TEST_CASE(aliases_and_room_ids) {
  AppService s(bridge("irc", false), "example.org");
  BOOST_CHECK(s.is_interested_in_alias("#_irc_chan:example.org"));
  BOOST_CHECK(!s.is_exclusive_alias("#_irc_chan:example.org"));
  BOOST_CHECK(!s.is_interested_in_alias("#chan:example.org"));
  BOOST_CHECK(s.is_interested_in_room_id("!bridged123:example.org"));
  BOOST_CHECK(!s.is_interested_in_room_id("!other:example.org"));
}

BOOST_AUTO_TEST_CASE(the_registry_finds_services_by_token_id_and_exclusive_namespace) {
  Registry reg({bridge("irc", true), bridge("slack", false)}, "example.org");
  BOOST_REQUIRE(reg.by_as_token("as_irc"));
  BOOST_CHECK_EQUAL(reg.by_as_token("as_irc")->id(), "irc");
  BOOST_CHECK(reg.by_as_token("as_ir") == nullptr);
  BOOST_CHECK(reg.by_as_token("") == nullptr);
  BOOST_CHECK(reg.by_id("slack") != nullptr);
  BOOST_CHECK(reg.by_id("nope") == nullptr);
  BOOST_CHECK_EQUAL(reg.exclusive_owner_of_user("@_irc_x:example.org")->id(), "irc");
  // A non-exclusive namespace reserves nothing, but its sender user is its own.
  BOOST_CHECK(reg.exclusive_owner_of_user("@_slack_x:example.org") == nullptr);
  BOOST_CHECK_EQUAL(reg.exclusive_owner_of_user("@_slack_bot:example.org")->id(), "slack");
  BOOST_CHECK(reg.exclusive_owner_of_alias("#_slack_x:example.org") == nullptr);
  BOOST_CHECK_EQUAL(reg.exclusive_owner_of_alias("#_irc_x:example.org")->id(), "irc");
}

}  // namespace haven::appservice
