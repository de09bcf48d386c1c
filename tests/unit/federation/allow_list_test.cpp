// Tests of federation/allow_list.cpp: whom allowed_servers lets in.
#include "federation/allow_list.h"

#include <boost/test/unit_test.hpp>

using haven::federation::ServerAllowList;

BOOST_AUTO_TEST_SUITE(allow_list)

BOOST_AUTO_TEST_CASE(an_empty_list_allows_nobody) {
  ServerAllowList none({});
  BOOST_CHECK(!none.allows("example.org"));
  BOOST_CHECK(!none.allows(""));
}

BOOST_AUTO_TEST_CASE(a_star_allows_everyone) {
  ServerAllowList all({"*"});
  BOOST_CHECK(all.allows("example.org"));
  BOOST_CHECK(all.allows("[::1]:8448"));
  BOOST_CHECK(!all.allows(""));
}

BOOST_AUTO_TEST_CASE(exact_names_match_whole_names_including_the_port) {
  ServerAllowList list({"care.example.org", "other.org:8448"});
  BOOST_CHECK(list.allows("care.example.org"));
  BOOST_CHECK(list.allows("CARE.Example.org"));
  BOOST_CHECK(!list.allows("care.example.org:8448"));
  BOOST_CHECK(!list.allows("evil-care.example.org"));
  BOOST_CHECK(!list.allows("example.org"));
  BOOST_CHECK(list.allows("other.org:8448"));
  BOOST_CHECK(!list.allows("other.org"));
}

BOOST_AUTO_TEST_CASE(domain_patterns_match_subdomains_with_any_port) {
  ServerAllowList list({"*.example.org"});
  BOOST_CHECK(list.allows("a.example.org"));
  BOOST_CHECK(list.allows("b.a.example.org:8448"));
  BOOST_CHECK(!list.allows("example.org"));
  BOOST_CHECK(!list.allows("badexample.org"));
  BOOST_CHECK(!list.allows("example.org.evil.com"));
}

BOOST_AUTO_TEST_SUITE_END()
