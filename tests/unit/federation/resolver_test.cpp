// Tests of federation/resolver.cpp: server discovery, with DNS and /.well-known answers
// given by test doubles of the network interfaces and a clock the test moves.
#include "federation/resolver.h"

#include <boost/test/unit_test.hpp>
#include <map>

using namespace haven::federation;

namespace {

class FakeDns : public DnsSource {
 public:
  std::map<std::string, std::vector<SrvRecord>> records;
  std::vector<std::string> asked;
  std::vector<SrvRecord> lookup_srv(const std::string& name) override {
    asked.push_back(name);
    auto it = records.find(name);
    return it == records.end() ? std::vector<SrvRecord>{} : it->second;
  }
};

class FakeWellKnown : public WellKnownSource {
 public:
  std::map<std::string, WellKnownAnswer> answers;  // absent: no HTTP answer at all
  int fetches = 0;
  WellKnownAnswer fetch(const std::string& hostname) override {
    ++fetches;
    auto it = answers.find(hostname);
    return it == answers.end() ? WellKnownAnswer{} : it->second;
  }
};

struct Fixture {
  FakeDns dns;
  FakeWellKnown well_known;
  int64_t now = 1'000'000;
  std::map<std::string, std::string> overrides;
  Resolver make() {
    return Resolver(dns, well_known, overrides, [this] { return now; });
  }

  ResolvedServer resolve(const std::string& name) {
    Resolver resolver = make();
    return resolve_with(resolver, name);
  }
  static ResolvedServer resolve_with(Resolver& resolver, const std::string& name) {
    auto r = resolver.resolve(name);
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    return *r;
  }
  void delegate(const std::string& host, const std::string& to, std::string cache = "") {
    well_known.answers[host] = {200, "{\"m.server\": \"" + to + "\"}", std::move(cache)};
  }
};

std::ostream& operator<<(std::ostream& out, const ResolvedServer& r) {
  return out << r.tls_name << " via " << r.connect_host << ":" << r.port << " Host "
             << r.host_header;
}

}  // namespace

namespace boost::test_tools::tt_detail {
template <>
struct print_log_value<ResolvedServer> {
  void operator()(std::ostream& out, const ResolvedServer& r) { ::operator<<(out, r); }
};
}  // namespace boost::test_tools::tt_detail

BOOST_FIXTURE_TEST_SUITE(resolver, Fixture)

BOOST_AUTO_TEST_CASE(ip_literals_are_used_as_they_are) {
  BOOST_CHECK_EQUAL(resolve("1.2.3.4"), (ResolvedServer{"1.2.3.4", "1.2.3.4", 8448, "1.2.3.4"}));
  BOOST_CHECK_EQUAL(resolve("1.2.3.4:80"),
                    (ResolvedServer{"1.2.3.4", "1.2.3.4", 80, "1.2.3.4:80"}));
  BOOST_CHECK_EQUAL(resolve("[::1]"), (ResolvedServer{"[::1]", "[::1]", 8448, "[::1]"}));
  BOOST_CHECK_EQUAL(resolve("[2001:db8::1]:9"),
                    (ResolvedServer{"[2001:db8::1]", "[2001:db8::1]", 9, "[2001:db8::1]:9"}));
  BOOST_CHECK_EQUAL(well_known.fetches, 0);
  BOOST_CHECK(dns.asked.empty());
}

BOOST_AUTO_TEST_CASE(an_explicit_port_skips_well_known_and_srv) {
  delegate("example.org", "elsewhere.org");
  BOOST_CHECK_EQUAL(resolve("example.org:8000"),
                    (ResolvedServer{"example.org", "example.org", 8000, "example.org:8000"}));
  BOOST_CHECK_EQUAL(well_known.fetches, 0);
  BOOST_CHECK(dns.asked.empty());
}

BOOST_AUTO_TEST_CASE(well_known_delegation_to_a_host_and_port) {
  delegate("example.org", "matrix.example.net:443");
  BOOST_CHECK_EQUAL(
      resolve("example.org"),
      (ResolvedServer{"matrix.example.net", "matrix.example.net", 443, "matrix.example.net:443"}));
  BOOST_CHECK(dns.asked.empty());
}

BOOST_AUTO_TEST_CASE(well_known_delegation_to_an_ip_literal) {
  delegate("example.org", "10.0.0.1");
  BOOST_CHECK_EQUAL(resolve("example.org"),
                    (ResolvedServer{"10.0.0.1", "10.0.0.1", 8448, "10.0.0.1"}));
  delegate("example.com", "[::2]:9000");
  BOOST_CHECK_EQUAL(resolve("example.com"), (ResolvedServer{"[::2]", "[::2]", 9000, "[::2]:9000"}));
}

BOOST_AUTO_TEST_CASE(well_known_delegation_then_srv_of_the_delegated_host) {
  delegate("example.org", "matrix.example.net");
  dns.records["_matrix-fed._tcp.matrix.example.net"] = {{10, 0, 8449, "fed.example.net"}};
  dns.records["_matrix._tcp.matrix.example.net"] = {{0, 0, 1, "legacy.example.net"}};
  BOOST_CHECK_EQUAL(resolve("example.org"), (ResolvedServer{"matrix.example.net", "fed.example.net",
                                                            8449, "matrix.example.net"}));
}

BOOST_AUTO_TEST_CASE(well_known_delegation_then_the_deprecated_srv_then_8448) {
  delegate("example.org", "matrix.example.net");
  dns.records["_matrix._tcp.matrix.example.net"] = {{0, 0, 1234, "legacy.example.net"}};
  BOOST_CHECK_EQUAL(
      resolve("example.org"),
      (ResolvedServer{"matrix.example.net", "legacy.example.net", 1234, "matrix.example.net"}));
  dns.records.clear();
  delegate("example.com", "matrix.example.com");
  BOOST_CHECK_EQUAL(
      resolve("example.com"),
      (ResolvedServer{"matrix.example.com", "matrix.example.com", 8448, "matrix.example.com"}));
  BOOST_CHECK((dns.asked == std::vector<std::string>{"_matrix-fed._tcp.matrix.example.net",
                                                     "_matrix._tcp.matrix.example.net",
                                                     "_matrix-fed._tcp.matrix.example.com",
                                                     "_matrix._tcp.matrix.example.com"}));
}

BOOST_AUTO_TEST_CASE(without_well_known_srv_of_the_server_name_is_used) {
  dns.records["_matrix-fed._tcp.example.org"] = {{20, 5, 2, "second.example.org"},
                                                 {10, 1, 3, "low-weight.example.org"},
                                                 {10, 9, 4, "first.example.org"}};
  BOOST_CHECK_EQUAL(resolve("example.org"),
                    (ResolvedServer{"example.org", "first.example.org", 4, "example.org"}));
}

BOOST_AUTO_TEST_CASE(without_well_known_the_deprecated_srv_then_port_8448) {
  dns.records["_matrix._tcp.example.org"] = {{0, 0, 5, "old.example.org"}};
  BOOST_CHECK_EQUAL(resolve("example.org"),
                    (ResolvedServer{"example.org", "old.example.org", 5, "example.org"}));
  BOOST_CHECK_EQUAL(resolve("example.net"),
                    (ResolvedServer{"example.net", "example.net", 8448, "example.net"}));
}

BOOST_AUTO_TEST_CASE(srv_records_saying_no_service_are_ignored) {
  dns.records["_matrix-fed._tcp.example.org"] = {{0, 0, 8448, ""}, {0, 0, 0, "x.example.org"}};
  BOOST_CHECK_EQUAL(resolve("example.org"),
                    (ResolvedServer{"example.org", "example.org", 8448, "example.org"}));
}

BOOST_AUTO_TEST_CASE(invalid_well_known_answers_fall_back_to_srv) {
  well_known.answers["a.org"] = {200, "not json", ""};
  well_known.answers["b.org"] = {200, R"({"m.server": 5})", ""};
  well_known.answers["c.org"] = {200, R"({"m.server": "bad name!"})", ""};
  well_known.answers["d.org"] = {404, R"({"m.server": "x.org"})", ""};
  for (const char* host : {"a.org", "b.org", "c.org", "d.org"}) {
    BOOST_TEST_CONTEXT(host) {
      BOOST_CHECK_EQUAL(resolve(host), (ResolvedServer{host, host, 8448, host}));
    }
  }
}

BOOST_AUTO_TEST_CASE(well_known_answers_are_cached_for_their_max_age) {
  delegate("example.org", "one.example.org:1", "public, max-age=3600");
  Resolver resolver = make();
  BOOST_CHECK_EQUAL(resolve_with(resolver, "example.org").port, 1);
  delegate("example.org", "two.example.org:2", "max-age=3600");
  now += 3599 * 1000;
  BOOST_CHECK_EQUAL(resolve_with(resolver, "example.org").port, 1);
  BOOST_CHECK_EQUAL(well_known.fetches, 1);
  now += 1000;
  BOOST_CHECK_EQUAL(resolve_with(resolver, "example.org").port, 2);
  BOOST_CHECK_EQUAL(well_known.fetches, 2);
}

BOOST_AUTO_TEST_CASE(failures_are_cached_with_exponential_back_off) {
  Resolver resolver = make();
  resolve_with(resolver, "example.org");
  BOOST_CHECK_EQUAL(well_known.fetches, 1);
  now += Resolver::kFirstFailureCacheMs - 1;
  resolve_with(resolver, "example.org");
  BOOST_CHECK_EQUAL(well_known.fetches, 1);
  now += 1;
  resolve_with(resolver, "example.org");  // second failure: twice as long
  BOOST_CHECK_EQUAL(well_known.fetches, 2);
  now += 2 * Resolver::kFirstFailureCacheMs - 1;
  resolve_with(resolver, "example.org");
  BOOST_CHECK_EQUAL(well_known.fetches, 2);
  now += 1;
  delegate("example.org", "up.example.org:7");
  BOOST_CHECK_EQUAL(resolve_with(resolver, "example.org").port, 7);
  BOOST_CHECK_EQUAL(well_known.fetches, 3);
}

BOOST_AUTO_TEST_CASE(cache_times_stay_within_bounds) {
  BOOST_CHECK_EQUAL(well_known_cache_ms(""), Resolver::kDefaultCacheMs);
  BOOST_CHECK_EQUAL(well_known_cache_ms("max-age=600"), 600'000);
  BOOST_CHECK_EQUAL(well_known_cache_ms("Max-Age=0"), Resolver::kMinCacheMs);
  BOOST_CHECK_EQUAL(well_known_cache_ms("max-age=99999999999999999999"), Resolver::kMaxCacheMs);
  BOOST_CHECK_EQUAL(well_known_cache_ms("max-age=604800"), Resolver::kMaxCacheMs);
  BOOST_CHECK_EQUAL(well_known_cache_ms("no-store"), Resolver::kMinCacheMs);
  BOOST_CHECK_EQUAL(well_known_cache_ms("max-age=abc"), Resolver::kDefaultCacheMs);
}

BOOST_AUTO_TEST_CASE(test_overrides_replace_discovery_but_keep_the_names) {
  overrides["hs1.test"] = "127.0.0.1:18448";
  overrides["hs2.test:99"] = "localhost:1";
  BOOST_CHECK_EQUAL(resolve("hs1.test"),
                    (ResolvedServer{"hs1.test", "127.0.0.1", 18448, "hs1.test"}));
  BOOST_CHECK_EQUAL(resolve("hs2.test:99"),
                    (ResolvedServer{"hs2.test", "localhost", 1, "hs2.test:99"}));
  BOOST_CHECK_EQUAL(well_known.fetches, 0);
}

BOOST_AUTO_TEST_CASE(invalid_server_names_are_refused) {
  Resolver resolver = make();
  for (const char* bad : {"", "a b", "[::1", "[zz]", "host:", "host:0", "host:65536", "a:b:c"}) {
    BOOST_TEST_CONTEXT(bad) {
      auto r = resolver.resolve(bad);
      BOOST_REQUIRE(!r.ok());
      BOOST_CHECK_EQUAL(r.error().errcode, "M_INVALID_PARAM");
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
