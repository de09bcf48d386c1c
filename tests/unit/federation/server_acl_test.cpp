// Server ACL matching (m.room.server_acl): the glob rules, ports, IP literals, the order of the
// checks and how malformed content reads.
#include "federation/server_acl.h"

#include <boost/test/unit_test.hpp>

#include "federation/resolver.h"
#include "homeserver/base/glob.h"
#include "tests/unit/rooms/test_room.h"

namespace haven::federation {
namespace {

ServerAcl acl_of(std::string_view content_json) {
  return ServerAcl::from_content(rooms::test::parse(content_json));
}

BOOST_AUTO_TEST_CASE(glob_star_and_question_mark) {
  BOOST_TEST(glob_match("*", ""));
  BOOST_TEST(glob_match("*", "evil.com"));
  BOOST_TEST(glob_match("*.evil.com", "a.b.evil.com"));
  BOOST_TEST(!glob_match("*.evil.com", "evil.com"));
  BOOST_TEST(glob_match("ev?l.com", "evil.com"));
  BOOST_TEST(!glob_match("ev?l.com", "evl.com"));
  BOOST_TEST(!glob_match("ev?l.com", "eviil.com"));
  BOOST_TEST(glob_match("e*l*.com", "evil.evil.com"));
  BOOST_TEST(!glob_match("evil.com", "evil.co"));
  BOOST_TEST(!glob_match("evil.co", "evil.com"));
  BOOST_TEST(glob_match("**?", "x"));
  BOOST_TEST(!glob_match("**?", ""));
  BOOST_TEST(!glob_match("", "x"));
}

BOOST_AUTO_TEST_CASE(glob_is_case_insensitive) {
  BOOST_TEST(glob_match("EVIL.com", "evil.COM"));
  BOOST_TEST(glob_match("*.Example.ORG", "matrix.example.org"));
}

BOOST_AUTO_TEST_CASE(glob_on_a_long_name_stays_fast) {
  std::string name(10000, 'a');
  BOOST_TEST(!glob_match("*a*a*a*a*a*a*a*a*b", name));
  BOOST_TEST(glob_match("*a*a*a*a*a*a*a*a*a", name));
}

BOOST_AUTO_TEST_CASE(the_port_is_not_part_of_the_name) {
  BOOST_TEST(host_of_server_name("evil.com:8448") == "evil.com");
  BOOST_TEST(host_of_server_name("evil.com") == "evil.com");
  BOOST_TEST(host_of_server_name("[::1]:8448") == "[::1]");
  BOOST_TEST(host_of_server_name("[::1]") == "[::1]");
  ServerAcl acl = acl_of(R"({"allow":["*"],"deny":["evil.com"]})");
  BOOST_TEST(!acl.allows("evil.com"));
  BOOST_TEST(!acl.allows("evil.com:8448"));
  BOOST_TEST(!acl.allows("evil.com:1234"));
  BOOST_TEST(acl.allows("good.com:8448"));
}

BOOST_AUTO_TEST_CASE(ip_literals) {
  BOOST_TEST(is_ip_literal("127.0.0.1"));
  BOOST_TEST(is_ip_literal("[::1]"));
  BOOST_TEST(is_ip_literal("[2001:db8::1]"));
  BOOST_TEST(!is_ip_literal("1.2.3"));
  BOOST_TEST(!is_ip_literal("1.2.3.4.5"));
  BOOST_TEST(!is_ip_literal("1.2.3.com"));
  BOOST_TEST(!is_ip_literal("example.org"));
  ServerAcl no_ips = acl_of(R"({"allow":["*"],"allow_ip_literals":false})");
  BOOST_TEST(!no_ips.allows("127.0.0.1"));
  BOOST_TEST(!no_ips.allows("127.0.0.1:8448"));
  BOOST_TEST(!no_ips.allows("[::1]:8448"));
  BOOST_TEST(no_ips.allows("example.org"));
  ServerAcl ips = acl_of(R"({"allow":["*"],"allow_ip_literals":true})");
  BOOST_TEST(ips.allows("127.0.0.1"));
}

BOOST_AUTO_TEST_CASE(deny_wins_over_allow_and_nothing_allowed_is_denied) {
  ServerAcl acl = acl_of(R"({"allow":["*.org"],"deny":["bad.org"]})");
  BOOST_TEST(acl.allows("good.org"));
  BOOST_TEST(!acl.allows("bad.org"));
  BOOST_TEST(!acl.allows("good.com"));                          // matches no allow entry
  BOOST_TEST(!acl_of(R"({"deny":["x"]})").allows("good.org"));  // no allow list: all denied
  BOOST_TEST(!acl_of("{}").allows("good.org"));
}

BOOST_AUTO_TEST_CASE(malformed_content_reads_with_the_specs_defaults) {
  // allow_ip_literals that is not a boolean counts as true.
  BOOST_TEST(acl_of(R"({"allow":["*"],"allow_ip_literals":"no"})").allows("10.0.0.1"));
  BOOST_TEST(acl_of(R"({"allow":["*"],"allow_ip_literals":0})").allows("10.0.0.1"));
  // Lists that are not arrays are empty; entries that are not strings are skipped.
  BOOST_TEST(!acl_of(R"({"allow":"*"})").allows("good.org"));
  BOOST_TEST(acl_of(R"({"allow":[1,null,"good.org"],"deny":"good.org"})").allows("good.org"));
  BOOST_TEST(acl_of(R"({"allow":["*"],"deny":[{"x":1}]})").allows("good.org"));
  BOOST_TEST(!acl_of("[]").allows("good.org"));
}

}  // namespace
}  // namespace haven::federation
