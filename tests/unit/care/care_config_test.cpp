#include "appservices/care/care_config.h"

#include "appservices/care/guest_page.h"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

using haven::care::generate_care_config;
using haven::care::load_care_config;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/care-config-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name) << text;
    return (path / name).string();
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(care_config)

BOOST_AUTO_TEST_CASE(generated_config_loads_with_its_registration) {
  TempDir dir;
  auto g = generate_care_config("hs.example", "./data-care", "http://127.0.0.1:8008", 8090,
                                "care-registration.yaml");
  dir.write("care-registration.yaml", g.registration_yaml);
  std::string error;
  auto c = load_care_config(dir.write("care.yaml", g.care_yaml), &error);
  BOOST_REQUIRE_MESSAGE(c, error);
  BOOST_TEST(c->port == 8090);
  BOOST_TEST(c->server_name == "hs.example");
  BOOST_TEST(c->data_dir == (dir.path / "data-care").string());
  BOOST_TEST(c->as_token.size() == 32u);
  BOOST_TEST(c->as_token != c->hs_token);
  BOOST_TEST(c->public_url == "http://127.0.0.1:8090");
  BOOST_TEST(!c->fake_clock);
  BOOST_TEST(g.registration_yaml.find("@care_guest_.*:hs\\\\.example") != std::string::npos);
  BOOST_TEST(c->own_device, "the generated registration lets haven-care have a device");
}

BOOST_AUTO_TEST_CASE(no_device_without_to_device_and_key_counts) {
  TempDir dir;
  std::string error;
  auto config = [&](const std::string& name, const std::string& registration) {
    auto reg = dir.write(name + ".reg.yaml", "as_token: a\nhs_token: b\nsender_localpart: care\n" +
                                                 registration);
    return load_care_config(dir.write(name + ".yaml", "data_dir: d\nhomeserver_url: http://x\n"
                                                      "server_name: s\nregistration_file: " +
                                                          reg + "\n"),
                            &error);
  };
  auto none = config("none", "");
  BOOST_REQUIRE_MESSAGE(none, error);
  BOOST_TEST(!none->own_device);
  auto half = config("half", "receive_ephemeral: true\n");
  BOOST_REQUIRE_MESSAGE(half, error);
  BOOST_TEST(!half->own_device);
  auto both = config("both", "de.sorunome.msc2409.push_ephemeral: true\norg.matrix.msc3202: true\n");
  BOOST_REQUIRE_MESSAGE(both, error);
  BOOST_TEST(both->own_device);
}

BOOST_AUTO_TEST_CASE(errors_name_the_key) {
  TempDir dir;
  std::string error;
  auto reg = dir.write("r.yaml", "as_token: a\nhs_token: b\nsender_localpart: care\n");
  auto base = "data_dir: d\nhomeserver_url: http://x\nserver_name: s\nregistration_file: " + reg + "\n";
  BOOST_TEST(!load_care_config(dir.write("a.yaml", base + "listen: {port: 99999}\n"), &error));
  BOOST_TEST(error.find("listen.port") != std::string::npos);
  BOOST_TEST(!load_care_config(dir.write("b.yaml", base + "colour: red\n"), &error));
  BOOST_TEST(error.find("colour: unknown key") != std::string::npos);
  BOOST_TEST(!load_care_config(dir.write("c.yaml", "data_dir: d\n"), &error));
  BOOST_TEST(error.find("homeserver_url: is required") != std::string::npos);
  BOOST_TEST(!load_care_config(dir.write("d.yaml", base + "testing: {fake_clock: maybe}\n"), &error));
  BOOST_TEST(error.find("testing.fake_clock") != std::string::npos);
  auto ok = load_care_config(dir.write("e.yaml", base + "testing: {fake_clock: true}\n"), &error);
  BOOST_REQUIRE_MESSAGE(ok, error);
  BOOST_TEST(ok->fake_clock);
}

BOOST_AUTO_TEST_CASE(guest_page_dir_defaults_beside_the_program_and_resolves_relative) {
  TempDir dir;
  std::string error;
  auto reg = dir.write("r.yaml", "as_token: a\nhs_token: b\nsender_localpart: care\n");
  auto base = "data_dir: d\nhomeserver_url: http://x\nserver_name: s\nregistration_file: " + reg + "\n";
  auto by_default = load_care_config(dir.write("a.yaml", base), &error);
  BOOST_REQUIRE_MESSAGE(by_default, error);
  BOOST_TEST(by_default->guest_page_dir == haven::care::default_guest_page_dir());
  BOOST_TEST(by_default->guest_page_dir.ends_with("/web"));
  BOOST_TEST(by_default->guest_homeserver_url == "http://x");
  auto relative = load_care_config(dir.write("b.yaml", base + "guest_page: {dir: site}\n"), &error);
  BOOST_REQUIRE_MESSAGE(relative, error);
  BOOST_TEST(relative->guest_page_dir == (dir.path / "site").string());
  auto public_url = load_care_config(
      dir.write("p.yaml", base + "guest_page: {homeserver_url: 'https://hs.example/'}\n"), &error);
  BOOST_REQUIRE_MESSAGE(public_url, error);
  BOOST_TEST(public_url->guest_homeserver_url == "https://hs.example");
  BOOST_TEST(public_url->homeserver_url == "http://x");
  BOOST_TEST(!load_care_config(dir.write("c.yaml", base + "guest_page: {dir: [a]}\n"), &error));
  BOOST_TEST(error.find("guest_page.dir: expected a string") != std::string::npos);
  BOOST_TEST(!load_care_config(dir.write("d.yaml", base + "guest_page: {path: x}\n"), &error));
  BOOST_TEST(error.find("guest_page.path: unknown key") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
