// Registration files: what a good one yields, and the one-line error of each bad one.
#include "conf/appservice_registration.h"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

namespace haven::conf {
namespace {

struct Files {
  std::filesystem::path dir;
  Files() {
    dir = std::filesystem::temp_directory_path() /
          ("haven-asreg-" + std::to_string(reinterpret_cast<uintptr_t>(this)));
    std::filesystem::create_directories(dir);
  }
  ~Files() { std::filesystem::remove_all(dir); }

  std::optional<AppServiceRegistration> load(const std::string& text, std::string* error) {
    const auto path = dir / "r.yaml";
    std::ofstream(path) << text;
    return load_appservice_registration(path.string(), error);
  }
  std::string error_of(const std::string& text) {
    std::string error;
    BOOST_REQUIRE_MESSAGE(!load(text, &error), "expected an error for:\n" << text);
    BOOST_CHECK_EQUAL(error.find('\n'), std::string::npos);
    return error;
  }
};

const std::string kGood =
    "id: irc\n"
    "url: http://127.0.0.1:1234/\n"
    "as_token: at123\n"
    "hs_token: ht456\n"
    "sender_localpart: _irc_bot\n"
    "namespaces:\n"
    "  users:\n"
    "    - exclusive: true\n"
    "      regex: '@_irc_.*'\n"
    "  aliases:\n"
    "    - {exclusive: false, regex: '#_irc_.*'}\n"
    "  rooms: []\n";

std::string replace(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  BOOST_REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(registration_files, Files)

BOOST_AUTO_TEST_CASE(a_good_file_gives_every_field_and_the_defaults) {
  std::string error;
  auto r = load(kGood, &error);
  BOOST_REQUIRE_MESSAGE(r, error);
  BOOST_CHECK_EQUAL(r->id, "irc");
  BOOST_CHECK_EQUAL(r->url, "http://127.0.0.1:1234");  // trailing slash dropped
  BOOST_CHECK_EQUAL(r->sender_localpart, "_irc_bot");
  BOOST_REQUIRE_EQUAL(r->users.size(), 1u);
  BOOST_CHECK(r->users[0].exclusive);
  BOOST_REQUIRE_EQUAL(r->aliases.size(), 1u);
  BOOST_CHECK(!r->aliases[0].exclusive);
  BOOST_CHECK(r->rooms.empty());
  BOOST_CHECK(r->rate_limited);
  BOOST_CHECK(!r->receive_ephemeral);
}

BOOST_AUTO_TEST_CASE(null_url_means_no_traffic_and_unstable_flags_are_read) {
  std::string error;
  auto r = load(replace(kGood, "url: http://127.0.0.1:1234/", "url: null") +
                    "de.sorunome.msc2409.push_ephemeral: true\norg.matrix.msc3202: true\n"
                    "rate_limited: false\nsome_bridge_specific_key: 1\n",
                &error);
  BOOST_REQUIRE_MESSAGE(r, error);
  BOOST_CHECK(r->url.empty());
  BOOST_CHECK(r->receive_ephemeral);
  BOOST_CHECK(r->msc3202);
  BOOST_CHECK(!r->rate_limited);
}

BOOST_AUTO_TEST_CASE(bad_files_name_the_key) {
  BOOST_CHECK_EQUAL(error_of(replace(kGood, "id: irc\n", "")), "id: is required");
  BOOST_CHECK_EQUAL(error_of(replace(kGood, "as_token: at123", "as_token: ''")),
                    "as_token: must not be empty");
  BOOST_CHECK_EQUAL(error_of(replace(kGood, "hs_token: ht456", "hs_token: [a]")),
                    "hs_token: expected a string, got a list");
  BOOST_CHECK_EQUAL(error_of(replace(kGood, "sender_localpart: _irc_bot", "sender_localpart: Bot")),
                    "sender_localpart: may only contain a-z, 0-9 and '=_-./+', got 'Bot'");
  BOOST_CHECK(error_of(replace(kGood, "'@_irc_.*'", "'@_irc_(['"))
                  .starts_with("namespaces.users[0].regex: invalid regular expression '@_irc_(['"));
  BOOST_CHECK_EQUAL(error_of(replace(kGood, "{exclusive: false, regex: '#_irc_.*'}", "'#x'")),
                    "namespaces.aliases[0]: expected a mapping with regex and exclusive, got '#x'");
  BOOST_CHECK_EQUAL(error_of(replace(kGood, "exclusive: true", "exclusive: maybe")),
                    "namespaces.users[0].exclusive: expected true or false, got 'maybe'");
  BOOST_CHECK_EQUAL(error_of(replace(kGood, "url: http://127.0.0.1:1234/\n", "")),
                    "url: is required (null when the service wants no traffic)");
  BOOST_CHECK_EQUAL(error_of("- a\n- b\n"), "top level: expected a mapping, got a list");
  BOOST_CHECK(error_of("id: [\n").find("invalid YAML") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(ids_and_tokens_must_be_unique) {
  AppServiceRegistration a, b;
  a.file = "a.yaml";
  a.id = "one";
  a.as_token = "t1";
  a.hs_token = "h1";
  b = a;
  b.file = "b.yaml";
  BOOST_CHECK_EQUAL(check_appservice_registrations({a, b}),
                    "a.yaml and b.yaml have the same id 'one'");
  b.id = "two";
  BOOST_CHECK_EQUAL(check_appservice_registrations({a, b}), "a.yaml and b.yaml have the same as_token");
  b.as_token = "h1";
  BOOST_CHECK_EQUAL(check_appservice_registrations({a, b}),
                    "a.yaml and b.yaml share a token between as_token and hs_token");
  b.as_token = "t2";
  b.hs_token = "h2";
  BOOST_CHECK_EQUAL(check_appservice_registrations({a, b}), "");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::conf
