// Tests of conf/config.cpp: defaults, every kind of load error, SERVER_NAME from the
// environment, and the generated config.

#define BOOST_TEST_MODULE conf
#include "conf/config.h"

#include <yaml-cpp/yaml.h>

#include <boost/test/unit_test.hpp>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using haven::conf::Config;
using haven::conf::generate_config;
using haven::conf::load_config;

namespace {

// A fresh directory per test, removed afterwards.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "haven-conf-test-XXXXXX").string();
    BOOST_REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// Sets or unsets an environment variable for one scope, then puts the old value back.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value == nullptr) {
      unsetenv(name);
    } else {
      setenv(name, value, 1);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      unsetenv(name_.c_str());
    }
  }

 private:
  std::string name_;
  std::optional<std::string> old_;
};

struct Fixture {
  TempDir dir;
  std::string error;

  std::string write(const std::string& text, const std::string& name = "homeserver.yaml") {
    const fs::path file = dir.path / name;
    std::ofstream(file) << text;
    return file.string();
  }

  std::optional<Config> load(const std::string& text) { return load_config(write(text), &error); }

  // Loads `text`, which must fail, and returns the error without the "<file>: " prefix.
  std::string load_error(const std::string& text) {
    const std::string path = write(text);
    error.clear();
    BOOST_REQUIRE_MESSAGE(!load_config(path, &error), "expected an error for:\n" << text);
    BOOST_REQUIRE_MESSAGE(error.starts_with(path + ": "), error);
    BOOST_CHECK_EQUAL(error.find('\n'), std::string::npos);
    return error.substr(path.size() + 2);
  }
};

// The full dotted keys of a YAML document's leaves.
void collect_keys(const YAML::Node& node, const std::string& prefix, std::set<std::string>* out) {
  for (const auto& entry : node) {
    const std::string key =
        prefix.empty() ? entry.first.Scalar() : prefix + "." + entry.first.Scalar();
    if (entry.second.IsMap()) {
      collect_keys(entry.second, key, out);
    } else {
      out->insert(key);
    }
  }
}

const std::set<std::string> kAllKeys = {
    "server_name",
    "server_name_from_env",
    "public_baseurl",
    "data_dir",
    "signing_key_path",
    "listeners.client.bind_address",
    "listeners.client.port",
    "listeners.federation.bind_address",
    "listeners.federation.port",
    "listeners.federation.tls_certificate_path",
    "listeners.federation.tls_private_key_path",
    "storage.lmdb_map_size_mb",
    "storage.lmdb_max_map_size_mb",
    "registration.enable_registration",
    "registration.registration_shared_secret",
    "registration.registration_requires_token",
    "registration.access_token_lifetime_ms",
    "rooms.default_room_version",
    "rooms.encryption_enabled_by_default",
    "media.max_upload_size_mb",
    "media.freeze_legacy_media",
    "media.store_path",
    "limits.max_request_body_bytes",
    "limits.max_json_depth",
    "rate_limits.rc_login.per_second",
    "rate_limits.rc_login.burst_count",
    "rate_limits.rc_registration.per_second",
    "rate_limits.rc_registration.burst_count",
    "rate_limits.rc_message.per_second",
    "rate_limits.rc_message.burst_count",
    "care.enabled",
    "care.guest_links",
    "care.temporary_rooms",
    "care.room_version",
    "care.power_levels.invite",
    "care.power_levels.kick",
    "care.power_levels.ban",
    "care.power_levels.redact",
    "care.power_levels.state_default",
    "care.power_levels.events_default",
    "care.power_levels.owner_only_events",
    "app_service_config_files",
    "federation.allowed_servers",
    "federation.trusted_key_servers",
    "federation.verify_certificates",
    "federation.insecure_test_servers",
    "federation.test_host_overrides",
    "delayed_events.max_delay_ms",
    "delayed_events.max_per_user",
    "voip.turn_uris",
    "voip.turn_shared_secret",
    "voip.turn_user_lifetime_seconds",
    "voip.turn_allow_guests",
    "presence.offline_after_seconds",
    "email.smtp_url",
    "email.smtp_username",
    "email.smtp_password",
    "email.require_starttls",
    "email.smtp_ca_file",
    "email.from",
    "email.client_base_url",
    "email.idle_minutes",
    "testing.fake_clock",
    "logging.level",
    "worker_threads",
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(load, Fixture)

BOOST_AUTO_TEST_CASE(empty_file_gives_the_defaults) {
  const auto config = load("");
  BOOST_REQUIRE_MESSAGE(config, error);
  BOOST_CHECK(*config == Config{});
}

BOOST_AUTO_TEST_CASE(missing_keys_and_empty_sections_take_the_defaults) {
  const auto config = load(
      "server_name: example.org\n"
      "listeners:\n"
      "  client: {port: 9000}\n"
      "storage:\n");
  BOOST_REQUIRE_MESSAGE(config, error);
  Config expected;
  expected.server_name = "example.org";
  expected.client_listener.port = 9000;
  BOOST_CHECK(*config == expected);
  BOOST_CHECK_EQUAL(config->client_listener.bind_address, "127.0.0.1");
  BOOST_CHECK_EQUAL(config->federation_listener.port, 8448);
  BOOST_CHECK_EQUAL(config->default_room_version, "12");
}

BOOST_AUTO_TEST_CASE(every_option_is_read_into_its_field) {
  const auto config = load(R"(
server_name: "example.org:8448"
server_name_from_env: false
public_baseurl: https://matrix.example.org/
data_dir: /var/lib/haven
signing_key_path: /etc/haven/signing.key
listeners:
  client: {bind_address: 0.0.0.0, port: 18008}
  federation:
    bind_address: "::"
    port: 18448
    tls_certificate_path: /etc/haven/cert.pem
    tls_private_key_path: /etc/haven/key.pem
storage: {lmdb_map_size_mb: 64, lmdb_max_map_size_mb: 4096}
registration:
  enable_registration: true
  registration_shared_secret: s3cret
  registration_requires_token: yes
  access_token_lifetime_ms: 3600000
rooms: {default_room_version: 11, encryption_enabled_by_default: off}
media: {max_upload_size_mb: 7, freeze_legacy_media: false, store_path: /srv/media}
limits: {max_request_body_bytes: 65536, max_json_depth: 32}
rate_limits:
  rc_login: {per_second: 0.5, burst_count: 5}
  rc_registration: {per_second: 0, burst_count: 0}
  rc_message: {per_second: 2.25, burst_count: 20}
logging: {level: debug}
worker_threads: 8
)");
  BOOST_REQUIRE_MESSAGE(config, error);
  BOOST_CHECK_EQUAL(config->server_name, "example.org:8448");
  BOOST_CHECK(!config->server_name_from_env);
  BOOST_CHECK_EQUAL(config->public_baseurl, "https://matrix.example.org/");
  BOOST_CHECK_EQUAL(config->data_dir, "/var/lib/haven");
  BOOST_CHECK_EQUAL(config->signing_key_file(), "/etc/haven/signing.key");
  BOOST_CHECK_EQUAL(config->client_listener.bind_address, "0.0.0.0");
  BOOST_CHECK_EQUAL(config->client_listener.port, 18008);
  BOOST_CHECK_EQUAL(config->federation_listener.bind_address, "::");
  BOOST_CHECK_EQUAL(config->federation_listener.port, 18448);
  BOOST_CHECK_EQUAL(config->tls_certificate_path, "/etc/haven/cert.pem");
  BOOST_CHECK_EQUAL(config->tls_private_key_path, "/etc/haven/key.pem");
  BOOST_CHECK_EQUAL(config->lmdb_map_size_mb, 64u);
  BOOST_CHECK_EQUAL(config->lmdb_max_map_size_mb, 4096u);
  BOOST_CHECK(config->enable_registration);
  BOOST_CHECK_EQUAL(config->registration_shared_secret, "s3cret");
  BOOST_CHECK(config->registration_requires_token);
  BOOST_CHECK_EQUAL(config->access_token_lifetime_ms, 3600000);
  BOOST_CHECK_EQUAL(config->default_room_version, "11");
  BOOST_CHECK(!config->encryption_enabled_by_default);
  BOOST_CHECK_EQUAL(config->media_max_upload_size_mb, 7u);
  BOOST_CHECK(!config->media_freeze_legacy_media);
  BOOST_CHECK_EQUAL(config->media_store_dir(), "/srv/media");
  BOOST_CHECK_EQUAL(config->max_request_body_bytes, 65536u);
  BOOST_CHECK_EQUAL(config->max_json_depth, 32);
  BOOST_CHECK_EQUAL(config->rc_login.per_second, 0.5);
  BOOST_CHECK_EQUAL(config->rc_login.burst, 5);
  BOOST_CHECK_EQUAL(config->rc_registration.per_second, 0.0);
  BOOST_CHECK_EQUAL(config->rc_registration.burst, 0);
  BOOST_CHECK_EQUAL(config->rc_message.per_second, 2.25);
  BOOST_CHECK_EQUAL(config->rc_message.burst, 20);
  BOOST_CHECK_EQUAL(config->log_level, "debug");
  BOOST_CHECK_EQUAL(config->worker_threads, 8);
}

BOOST_AUTO_TEST_CASE(email_options_are_read_and_off_by_default) {
  const auto defaults = load("");
  BOOST_REQUIRE_MESSAGE(defaults, error);
  BOOST_CHECK(!defaults->email.enabled());
  BOOST_CHECK(!defaults->testing.fake_clock);
  BOOST_CHECK_EQUAL(defaults->email.idle_minutes, 10);
  const auto config = load(R"(
email:
  smtp_url: smtps://mail.example.org:465
  smtp_username: haven
  smtp_password: pw
  require_starttls: true
  smtp_ca_file: /etc/haven/mail-ca.pem
  from: noreply@example.org
  client_base_url: https://chat.example.org/
  idle_minutes: 3
testing: {fake_clock: true}
)");
  BOOST_REQUIRE_MESSAGE(config, error);
  BOOST_CHECK(config->email.enabled());
  BOOST_CHECK_EQUAL(config->email.smtp_url, "smtps://mail.example.org:465");
  BOOST_CHECK_EQUAL(config->email.smtp_username, "haven");
  BOOST_CHECK_EQUAL(config->email.smtp_password, "pw");
  BOOST_CHECK(config->email.require_starttls);
  BOOST_CHECK_EQUAL(config->email.smtp_ca_file, "/etc/haven/mail-ca.pem");
  BOOST_CHECK_EQUAL(config->email.from, "noreply@example.org");
  BOOST_CHECK_EQUAL(config->email.client_base_url, "https://chat.example.org/");
  BOOST_CHECK_EQUAL(config->email.idle_minutes, 3);
  BOOST_CHECK(config->testing.fake_clock);
}

BOOST_AUTO_TEST_CASE(email_settings_that_cannot_work_are_rejected) {
  BOOST_CHECK_EQUAL(load_error("email: {smtp_url: http://mail}\n"),
                    "email.smtp_url: must start with smtp:// or smtps://, got 'http://mail'");
  BOOST_CHECK_EQUAL(load_error("email: {smtp_url: smtp://mail, client_base_url: https://c/}\n"),
                    "email.from: must be set with smtp_url");
  BOOST_CHECK_EQUAL(load_error("email: {smtp_url: smtp://mail, from: a@b}\n"),
                    "email.client_base_url: must be set with smtp_url");
  BOOST_CHECK_EQUAL(
      load_error("email: {smtp_url: smtp://mail, from: nobody, client_base_url: https://c/}\n"),
      "email.from: must be a plain address, got 'nobody'");
  BOOST_CHECK_EQUAL(load_error("email: {idle_minutes: 0}\n"),
                    "email.idle_minutes: must be between 1 and 10080, got 0");
}

BOOST_AUTO_TEST_CASE(public_baseurl_gets_a_trailing_slash) {
  const auto config = load("public_baseurl: https://matrix.example.org\n");
  BOOST_REQUIRE_MESSAGE(config, error);
  BOOST_CHECK_EQUAL(config->public_baseurl, "https://matrix.example.org/");
}

BOOST_AUTO_TEST_CASE(public_baseurl_without_http_scheme_is_rejected) {
  BOOST_CHECK_EQUAL(load_error("public_baseurl: matrix.example.org\n"),
                    "public_baseurl: must start with http:// or https://, got "
                    "'matrix.example.org'");
}

BOOST_AUTO_TEST_CASE(missing_file_is_reported_with_its_path) {
  const std::string path = (dir.path / "absent.yaml").string();
  BOOST_CHECK(!load_config(path, &error));
  BOOST_CHECK_EQUAL(error, path + ": cannot read: No such file or directory");
}

BOOST_AUTO_TEST_CASE(directory_instead_of_file_is_reported) {
  BOOST_CHECK(!load_config(dir.path.string(), &error));
  BOOST_CHECK_EQUAL(error, dir.path.string() + ": cannot read: is a directory");
}

BOOST_AUTO_TEST_CASE(yaml_syntax_error_names_its_line) {
  const std::string problem = load_error(
      "server_name: example.org\n"
      "listeners:\n"
      "  client: {port: 8008\n"
      "worker_threads: 2\n");
  BOOST_CHECK_MESSAGE(problem.starts_with("line "), problem);
  BOOST_CHECK_MESSAGE(problem.find("invalid YAML") != std::string::npos, problem);

  const std::string bad_indent = load_error(
      "server_name: example.org\n"
      "  data_dir: /x\n");
  BOOST_CHECK_MESSAGE(bad_indent.starts_with("line 2,"), bad_indent);
}

BOOST_AUTO_TEST_CASE(top_level_must_be_a_mapping) {
  BOOST_CHECK_EQUAL(load_error("- server_name\n"),
                    "top level: expected a mapping of options, got a list");
}

BOOST_AUTO_TEST_CASE(unknown_top_level_key_is_named) {
  BOOST_CHECK_EQUAL(load_error("colour: blue\n"), "colour: unknown key");
}

BOOST_AUTO_TEST_CASE(unknown_nested_key_is_named_with_its_dotted_path) {
  const std::string problem = load_error("listeners:\n  client:\n    prot: 8008\n");
  BOOST_CHECK_MESSAGE(problem.starts_with("listeners.client.prot: unknown key"), problem);
  BOOST_CHECK_EQUAL(load_error("rate_limits:\n  rc_login: {per_second: 1, burst: 3}\n"),
                    "rate_limits.rc_login.burst: unknown key");
  BOOST_CHECK_EQUAL(load_error("listeners:\n  admin: {port: 1}\n"), "listeners.admin: unknown key");
}

BOOST_AUTO_TEST_CASE(unknown_key_close_to_a_known_one_gets_a_suggestion) {
  BOOST_CHECK_EQUAL(load_error("listeners:\n  client:\n    prot: 8008\n"),
                    "listeners.client.prot: unknown key (did you mean 'port'?)");
  BOOST_CHECK_EQUAL(load_error("server_nme: example.org\n"),
                    "server_nme: unknown key (did you mean 'server_name'?)");
}

BOOST_AUTO_TEST_CASE(key_given_twice_is_rejected) {
  BOOST_CHECK_EQUAL(load_error("storage:\n  lmdb_map_size_mb: 1\n  lmdb_map_size_mb: 2\n"),
                    "storage.lmdb_map_size_mb: appears more than once");
}

BOOST_AUTO_TEST_CASE(non_integer_for_an_integer_is_rejected_with_the_value) {
  BOOST_CHECK_EQUAL(load_error("listeners:\n  client:\n    port: abc\n"),
                    "listeners.client.port: expected an integer, got 'abc'");
  BOOST_CHECK_EQUAL(load_error("worker_threads: 2.5\n"),
                    "worker_threads: expected an integer, got '2.5'");
  BOOST_CHECK_EQUAL(load_error("limits:\n  max_json_depth:\n"),
                    "limits.max_json_depth: expected an integer, got an empty value");
  BOOST_CHECK_EQUAL(load_error("limits:\n  max_json_depth: [1]\n"),
                    "limits.max_json_depth: expected an integer, got a list");
}

BOOST_AUTO_TEST_CASE(non_boolean_for_a_boolean_is_rejected) {
  BOOST_CHECK_EQUAL(load_error("registration:\n  enable_registration: maybe\n"),
                    "registration.enable_registration: expected true or false, got 'maybe'");
}

BOOST_AUTO_TEST_CASE(non_number_for_a_rate_is_rejected) {
  BOOST_CHECK_EQUAL(load_error("rate_limits:\n  rc_message:\n    per_second: fast\n"),
                    "rate_limits.rc_message.per_second: expected a number, got 'fast'");
}

BOOST_AUTO_TEST_CASE(mapping_for_a_string_is_rejected) {
  BOOST_CHECK_EQUAL(load_error("data_dir: {path: /x}\n"),
                    "data_dir: expected a string, got a mapping");
}

BOOST_AUTO_TEST_CASE(scalar_for_a_section_is_rejected) {
  BOOST_CHECK_EQUAL(load_error("listeners: 8008\n"),
                    "listeners: expected a mapping of options, got '8008'");
}

BOOST_AUTO_TEST_CASE(client_port_outside_1_to_65535_is_rejected) {
  BOOST_CHECK_EQUAL(load_error("listeners:\n  client: {port: 0}\n"),
                    "listeners.client.port: must be between 1 and 65535, got 0");
  BOOST_CHECK_EQUAL(load_error("listeners:\n  client: {port: 65536}\n"),
                    "listeners.client.port: must be between 1 and 65535, got 65536");
  BOOST_CHECK_EQUAL(load_error("listeners:\n  client: {port: -1}\n"),
                    "listeners.client.port: must not be negative, got -1");
  BOOST_CHECK_EQUAL(load_error("listeners:\n  client: {port: 99999999999999999999999}\n"),
                    "listeners.client.port: must be between 1 and 65535, got "
                    "99999999999999999999999");
}

BOOST_AUTO_TEST_CASE(federation_port_zero_disables_federation) {
  const auto config = load("listeners:\n  federation: {port: 0}\n");
  BOOST_REQUIRE_MESSAGE(config, error);
  BOOST_CHECK_EQUAL(config->federation_listener.port, 0);
}

BOOST_AUTO_TEST_CASE(federation_port_above_65535_is_rejected) {
  BOOST_CHECK_EQUAL(load_error("listeners:\n  federation: {port: 70000}\n"),
                    "listeners.federation.port: must be between 0 and 65535, got 70000");
}

BOOST_AUTO_TEST_CASE(empty_server_name_is_rejected) {
  BOOST_CHECK_EQUAL(load_error("server_name: \"\"\n"), "server_name: must not be empty");
  BOOST_CHECK_EQUAL(load_error("server_name:\n"), "server_name: must not be empty");
}

BOOST_AUTO_TEST_CASE(server_names_of_the_spec_grammar_are_accepted) {
  for (const char* name :
       {"example.org", "localhost", "localhost:8448", "my-host.example.org:1", "1.2.3.4",
        "1.2.3.4:65535", "[::1]", "[::1]:8448", "[2001:db8::1]", "[1234:5678::abcd]:443"}) {
    BOOST_TEST_CONTEXT(name) {
      const auto config = load(std::string("server_name: \"") + name + "\"\n");
      BOOST_REQUIRE_MESSAGE(config, error);
      BOOST_CHECK_EQUAL(config->server_name, name);
    }
  }
}

BOOST_AUTO_TEST_CASE(server_names_outside_the_spec_grammar_are_rejected) {
  for (const char* name : {"exa mple.org", "example.org:", "example.org:abc", "example.org:0",
                           "example.org:65536", "example.org:123456", "ex_ample.org", "::1", "[::1",
                           "[::1]8448", "[g::1]", "[]", "@example.org", "ex/ample"}) {
    BOOST_TEST_CONTEXT(name) {
      const std::string problem = load_error(std::string("server_name: \"") + name + "\"\n");
      BOOST_CHECK_EQUAL(problem, std::string("server_name: '") + name +
                                     "' is not a valid server name (hostname, IPv4 address or "
                                     "[IPv6 address], optionally followed by :port)");
    }
  }
  const std::string too_long(256, 'a');
  BOOST_CHECK(load_error("server_name: " + too_long + "\n").starts_with("server_name: '"));
  BOOST_CHECK(load("server_name: " + std::string(255, 'a') + "\n"));
}

BOOST_AUTO_TEST_CASE(room_versions_10_11_and_12_are_accepted) {
  for (const char* version : {"10", "11", "12", "\"12\""}) {
    BOOST_TEST_CONTEXT(version) {
      const auto config = load(std::string("rooms:\n  default_room_version: ") + version + "\n");
      BOOST_REQUIRE_MESSAGE(config, error);
      BOOST_CHECK_EQUAL(config->default_room_version,
                        std::string(version).substr(version[0] == '"', 2));
    }
  }
}

BOOST_AUTO_TEST_CASE(other_room_versions_are_rejected) {
  BOOST_CHECK_EQUAL(load_error("rooms:\n  default_room_version: 9\n"),
                    "rooms.default_room_version: must be 10, 11 or 12, got '9'");
  BOOST_CHECK_EQUAL(load_error("rooms:\n  default_room_version: 12.0\n"),
                    "rooms.default_room_version: must be 10, 11 or 12, got '12.0'");
}

BOOST_AUTO_TEST_CASE(unknown_log_level_is_rejected) {
  BOOST_CHECK_EQUAL(load_error("logging:\n  level: verbose\n"),
                    "logging.level: must be debug, info, warn or error, got 'verbose'");
  BOOST_CHECK(load("logging:\n  level: warn\n"));
}

BOOST_AUTO_TEST_CASE(negative_sizes_and_counts_are_rejected) {
  BOOST_CHECK_EQUAL(load_error("storage:\n  lmdb_map_size_mb: -5\n"),
                    "storage.lmdb_map_size_mb: must not be negative, got -5");
  BOOST_CHECK_EQUAL(load_error("limits:\n  max_request_body_bytes: -1\n"),
                    "limits.max_request_body_bytes: must not be negative, got -1");
  BOOST_CHECK_EQUAL(load_error("registration:\n  access_token_lifetime_ms: -1000\n"),
                    "registration.access_token_lifetime_ms: must not be negative, got -1000");
  BOOST_CHECK_EQUAL(load_error("rate_limits:\n  rc_login: {burst_count: -3}\n"),
                    "rate_limits.rc_login.burst_count: must not be negative, got -3");
  BOOST_CHECK_EQUAL(load_error("rate_limits:\n  rc_login: {per_second: -0.5}\n"),
                    "rate_limits.rc_login.per_second: must not be negative, got -0.5");
}

BOOST_AUTO_TEST_CASE(zero_sizes_and_thread_counts_are_rejected) {
  BOOST_CHECK_EQUAL(load_error("limits:\n  max_request_body_bytes: 0\n"),
                    "limits.max_request_body_bytes: must be at least 1, got 0");
  BOOST_CHECK_EQUAL(load_error("worker_threads: 0\n"),
                    "worker_threads: must be between 1 and 1024, got 0");
}

BOOST_AUTO_TEST_CASE(max_map_size_below_initial_map_size_is_rejected) {
  BOOST_CHECK_EQUAL(
      load_error("storage: {lmdb_map_size_mb: 2048, lmdb_max_map_size_mb: 1024}\n"),
      "storage.lmdb_max_map_size_mb: must be at least storage.lmdb_map_size_mb (2048), got 1024");
}

BOOST_AUTO_TEST_CASE(tls_certificate_without_key_is_rejected) {
  const std::string problem =
      load_error("listeners:\n  federation: {tls_certificate_path: /etc/cert.pem}\n");
  BOOST_CHECK_MESSAGE(problem.starts_with("listeners.federation.tls_private_key_path: "), problem);
  const std::string other =
      load_error("listeners:\n  federation: {tls_private_key_path: /etc/key.pem}\n");
  BOOST_CHECK_MESSAGE(other.starts_with("listeners.federation.tls_certificate_path: "), other);
}

BOOST_AUTO_TEST_CASE(federation_options_are_read) {
  const auto config = load(R"(
federation:
  allowed_servers: ["*.example.org", "care.example.net:8448", "[::1]"]
  trusted_key_servers: [matrix.org]
  verify_certificates: false
  insecure_test_servers: [hs1.test, "hs2.test:8448"]
  test_host_overrides: ["hs1.test=127.0.0.1:18448", "hs2.test:8448=localhost:1"]
)");
  BOOST_REQUIRE_MESSAGE(config, error);
  const auto& f = config->federation;
  BOOST_CHECK((f.allowed_servers ==
               std::vector<std::string>{"*.example.org", "care.example.net:8448", "[::1]"}));
  BOOST_CHECK((f.trusted_key_servers == std::vector<std::string>{"matrix.org"}));
  BOOST_CHECK(!f.verify_certificates);
  BOOST_CHECK((f.insecure_test_servers == std::vector<std::string>{"hs1.test", "hs2.test:8448"}));
  BOOST_CHECK_EQUAL(f.test_host_overrides.size(), 2u);
}

BOOST_AUTO_TEST_CASE(federation_is_closed_and_verifies_certificates_by_default) {
  const auto config = load("");
  BOOST_REQUIRE_MESSAGE(config, error);
  BOOST_CHECK(config->federation.allowed_servers.empty());
  BOOST_CHECK(config->federation.verify_certificates);
}

BOOST_AUTO_TEST_CASE(certificates_go_unchecked_only_for_listed_servers) {
  BOOST_CHECK_EQUAL(
      load_error("federation: {verify_certificates: false}\n"),
      "federation.verify_certificates: may be false only when federation.insecure_test_servers "
      "names the servers whose certificates go unchecked");
  const std::string problem = load_error("federation: {insecure_test_servers: [hs1.test]}\n");
  BOOST_CHECK_MESSAGE(problem.starts_with("federation.insecure_test_servers: has no effect"),
                      problem);
  const std::string wildcard =
      load_error("federation: {verify_certificates: false, insecure_test_servers: ['*']}\n");
  BOOST_CHECK_MESSAGE(wildcard.starts_with("federation.insecure_test_servers: '*' is not a valid"),
                      wildcard);
}

BOOST_AUTO_TEST_CASE(bad_federation_server_names_are_rejected) {
  for (const char* bad : {"'*.'", "'*.a:80'", "'a b'", "'*x'", "'x.org:0'"}) {
    BOOST_TEST_CONTEXT(bad) {
      const std::string problem =
          load_error(std::string("federation: {allowed_servers: [") + bad + "]}\n");
      BOOST_CHECK_MESSAGE(problem.starts_with("federation.allowed_servers: "), problem);
    }
  }
  BOOST_CHECK(!load("federation: {trusted_key_servers: ['bad name']}\n"));
  BOOST_CHECK(!load("federation: {allowed_servers: example.org}\n"));
}

BOOST_AUTO_TEST_CASE(host_overrides_need_a_name_a_host_and_a_port) {
  for (const char* bad : {"hs1.test", "hs1.test=127.0.0.1", "=127.0.0.1:80", "hs1.test=[::1]",
                          "hs1.test=a b:80", "hs1.test=127.0.0.1:99999"}) {
    BOOST_TEST_CONTEXT(bad) {
      const std::string problem =
          load_error(std::string("federation: {test_host_overrides: ['") + bad + "']}\n");
      BOOST_CHECK_MESSAGE(problem.starts_with("federation.test_host_overrides: "), problem);
    }
  }
  BOOST_CHECK_MESSAGE(load("federation: {test_host_overrides: ['a.test=[::1]:8448']}\n"), error);
}

BOOST_AUTO_TEST_CASE(first_problem_is_the_one_reported) {
  BOOST_CHECK_EQUAL(load_error("worker_threads: x\nlogging: {level: loud}\n"),
                    "worker_threads: expected an integer, got 'x'");
}

BOOST_AUTO_TEST_CASE(multi_line_value_is_shown_on_one_line) {
  BOOST_CHECK_EQUAL(load_error("logging:\n  level: \"a\\nb\"\n"),
                    "logging.level: must be debug, info, warn or error, got 'a\\nb'");
}

BOOST_AUTO_TEST_CASE(care_template_is_read_including_its_list_of_events) {
  const auto config = load(R"(
care:
  enabled: false
  temporary_rooms: true
  room_version: "10"
  power_levels: {invite: 50, owner_only_events: [m.room.name, "m.call.member"]}
)");
  BOOST_REQUIRE_MESSAGE(config, error);
  BOOST_CHECK(!config->care.enabled);
  BOOST_CHECK(config->care.temporary_rooms);
  BOOST_CHECK(!config->care.guest_links);
  BOOST_CHECK_EQUAL(config->care.room_version, "10");
  BOOST_CHECK_EQUAL(config->care.invite, 50);
  BOOST_CHECK_EQUAL(config->care.kick, 100);
  BOOST_CHECK((config->care.owner_only_events ==
               std::vector<std::string>{"m.room.name", "m.call.member"}));
}

BOOST_AUTO_TEST_CASE(care_options_refuse_bad_values_naming_the_key) {
  BOOST_CHECK(!load("care: {power_levels: {owner_only_events: m.room.name}}"));
  BOOST_CHECK_NE(error.find("care.power_levels.owner_only_events: expected a list"),
                 std::string::npos);
  BOOST_CHECK(!load("care: {power_levels: {owner_only_events: [\"\"]}}"));
  BOOST_CHECK(!load("care: {power_levels: {kick: 101}}"));
  BOOST_CHECK_NE(error.find("care.power_levels.kick"), std::string::npos);
  BOOST_CHECK(!load("care: {room_version: \"12\"}"));
  BOOST_CHECK_NE(error.find("care.room_version"), std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(server_name_from_env, Fixture)

BOOST_AUTO_TEST_CASE(server_name_comes_from_SERVER_NAME_when_asked) {
  ScopedEnv env("SERVER_NAME", "hs1.example.org:8448");
  const auto config = load("server_name: ignored.example\nserver_name_from_env: true\n");
  BOOST_REQUIRE_MESSAGE(config, error);
  BOOST_CHECK_EQUAL(config->server_name, "hs1.example.org:8448");
  BOOST_CHECK(config->server_name_from_env);
}

BOOST_AUTO_TEST_CASE(SERVER_NAME_is_ignored_unless_asked) {
  ScopedEnv env("SERVER_NAME", "hs1.example.org");
  const auto config = load("server_name: mine.example\n");
  BOOST_REQUIRE_MESSAGE(config, error);
  BOOST_CHECK_EQUAL(config->server_name, "mine.example");
}

BOOST_AUTO_TEST_CASE(unset_or_empty_SERVER_NAME_is_an_error_when_asked) {
  {
    ScopedEnv env("SERVER_NAME", nullptr);
    BOOST_CHECK_EQUAL(load_error("server_name_from_env: true\n"),
                      "server_name_from_env: is true but SERVER_NAME is not set");
  }
  {
    ScopedEnv env("SERVER_NAME", "");
    BOOST_CHECK_EQUAL(load_error("server_name_from_env: true\n"),
                      "server_name_from_env: is true but SERVER_NAME is not set");
  }
}

BOOST_AUTO_TEST_CASE(invalid_SERVER_NAME_is_rejected) {
  ScopedEnv env("SERVER_NAME", "not valid");
  const std::string problem = load_error("server_name_from_env: true\n");
  BOOST_CHECK_MESSAGE(
      problem.starts_with("server_name_from_env: SERVER_NAME 'not valid' is not a valid"), problem);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(generate, Fixture)

BOOST_AUTO_TEST_CASE(generated_config_loads_back_to_the_same_values) {
  const std::string text = generate_config("example.org", "/var/lib/haven", 18008, 18448);
  const auto config = load(text);
  BOOST_REQUIRE_MESSAGE(config, error);

  Config expected;
  expected.server_name = "example.org";
  expected.data_dir = "/var/lib/haven";
  expected.client_listener.port = 18008;
  expected.federation_listener.port = 18448;
  expected.registration_shared_secret = config->registration_shared_secret;
  BOOST_CHECK(*config == expected);
  BOOST_CHECK(!config->enable_registration);
}

BOOST_AUTO_TEST_CASE(generated_config_has_a_fresh_32_character_shared_secret) {
  const auto first = load(generate_config("example.org", "./data", 8008, 8448));
  BOOST_REQUIRE_MESSAGE(first, error);
  const auto second = load(generate_config("example.org", "./data", 8008, 8448));
  BOOST_REQUIRE_MESSAGE(second, error);
  const std::string& secret = first->registration_shared_secret;
  BOOST_CHECK_EQUAL(secret.size(), 32u);
  for (char ch : secret) BOOST_CHECK(std::isalnum(static_cast<unsigned char>(ch)));
  BOOST_CHECK_NE(secret, second->registration_shared_secret);
}

BOOST_AUTO_TEST_CASE(generated_config_quotes_values_that_yaml_would_misread) {
  const std::string data_dir = "/srv/ha\"ven\\ #data: [x]";
  const auto config = load(generate_config("[::1]:8448", data_dir, 1, 0));
  BOOST_REQUIRE_MESSAGE(config, error);
  BOOST_CHECK_EQUAL(config->server_name, "[::1]:8448");
  BOOST_CHECK_EQUAL(config->data_dir, data_dir);
  BOOST_CHECK_EQUAL(config->client_listener.port, 1);
  BOOST_CHECK_EQUAL(config->federation_listener.port, 0);
}

BOOST_AUTO_TEST_CASE(generated_config_lists_every_option) {
  const YAML::Node root = YAML::Load(generate_config("example.org", "./data", 8008, 8448));
  std::set<std::string> keys;
  collect_keys(root, "", &keys);
  BOOST_CHECK_EQUAL_COLLECTIONS(keys.begin(), keys.end(), kAllKeys.begin(), kAllKeys.end());
}

BOOST_AUTO_TEST_CASE(every_key_in_the_generated_config_has_a_comment_above_it) {
  std::istringstream lines(generate_config("example.org", "./data", 8008, 8448));
  std::string previous;
  int key_lines = 0;
  for (std::string line; std::getline(lines, line);) {
    const size_t start = line.find_first_not_of(' ');
    if (start != std::string::npos && line[start] != '#') {
      ++key_lines;
      BOOST_TEST_CONTEXT(line) {
        BOOST_CHECK(previous.find_first_not_of(' ') != std::string::npos &&
                    previous[previous.find_first_not_of(' ')] == '#');
      }
    }
    previous = line;
  }
  // Every option plus the section lines (listeners, client, federation, storage, ...).
  BOOST_CHECK_EQUAL(key_lines, static_cast<int>(kAllKeys.size()) + 21);
}

BOOST_AUTO_TEST_SUITE_END()
