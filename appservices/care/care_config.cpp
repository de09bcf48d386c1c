#include "appservices/care/care_config.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <set>
#include <stdexcept>

#include "appservices/care/guest_page.h"
#include "crypto/random.h"

namespace haven::care {

namespace {

struct ConfigError : std::runtime_error {
  ConfigError(const std::string& key, const std::string& problem)
      : std::runtime_error(key + ": " + problem) {}
};

std::string read_string(const YAML::Node& root, const std::string& key, bool required) {
  const YAML::Node n = root[key];
  if (!n || n.IsNull()) {
    if (required) throw ConfigError(key, "is required");
    return "";
  }
  if (!n.IsScalar()) throw ConfigError(key, "expected a string");
  return n.Scalar();
}

int64_t read_int(const YAML::Node& node, const std::string& key, const std::string& name,
                 int64_t fallback, int64_t min, int64_t max) {
  const YAML::Node n = node[name];
  if (!n || n.IsNull()) return fallback;
  int64_t v = 0;
  try {
    v = n.as<int64_t>();
  } catch (const YAML::Exception&) {
    throw ConfigError(key, "expected an integer");
  }
  if (v < min || v > max) {
    throw ConfigError(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return v;
}

bool read_bool(const YAML::Node& node, const std::string& key, const std::string& name) {
  const YAML::Node n = node[name];
  if (!n || n.IsNull()) return false;
  try {
    return n.as<bool>();
  } catch (const YAML::Exception&) {
    throw ConfigError(key, "expected true or false");
  }
}

void check_keys(const YAML::Node& node, const std::string& prefix,
                const std::set<std::string>& known) {
  for (const auto& entry : node) {
    std::string name = entry.first.Scalar();
    if (!known.count(name)) throw ConfigError(prefix + name, "unknown key");
  }
}

std::string resolve(const std::filesystem::path& base, const std::string& p) {
  if (p.empty() || std::filesystem::path(p).is_absolute()) return p;
  return (base / p).lexically_normal().string();
}

void read_registration(CareConfig& c) {
  const std::string where = "registration_file (" + c.registration_file + ")";
  YAML::Node reg;
  try {
    reg = YAML::LoadFile(c.registration_file);
  } catch (const YAML::Exception& e) {
    throw ConfigError(where, e.what());
  }
  if (!reg.IsMap()) throw ConfigError(where, "expected a mapping");
  c.as_token = read_string(reg, "as_token", true);
  c.hs_token = read_string(reg, "hs_token", true);
  c.sender_localpart = read_string(reg, "sender_localpart", true);
  // haven-care reads encrypted temporary conversations with a device of its own: it needs its
  // to-device messages (MSC2409) and key counts (MSC3202). It makes the device as MSC4190 says,
  // which haven allows every appservice; io.element.msc4190 would also turn off /login with
  // m.login.application_service, which its guests need.
  auto flag = [&reg](const char* key) {
    const YAML::Node n = reg[key];
    return n && n.IsScalar() && n.as<std::string>() == "true";
  };
  c.own_device = (flag("receive_ephemeral") || flag("de.sorunome.msc2409.push_ephemeral")) &&
                 flag("org.matrix.msc3202");
}

CareConfig parse(const YAML::Node& root, const std::filesystem::path& base) {
  if (!root.IsMap()) throw ConfigError("(top level)", "expected a mapping");
  check_keys(root, "",
             {"listen", "public_url", "data_dir", "homeserver_url", "server_name",
              "registration_file", "guest_prefix", "guests", "guest_page", "testing"});
  CareConfig c;
  if (const YAML::Node listen = root["listen"]; listen && !listen.IsNull()) {
    if (!listen.IsMap()) throw ConfigError("listen", "expected a mapping");
    check_keys(listen, "listen.", {"bind_address", "port"});
    if (auto a = read_string(listen, "bind_address", false); !a.empty()) c.bind_address = a;
    c.port = static_cast<int>(read_int(listen, "listen.port", "port", c.port, 0, 65535));
  }
  c.data_dir = resolve(base, read_string(root, "data_dir", true));
  c.homeserver_url = read_string(root, "homeserver_url", true);
  while (!c.homeserver_url.empty() && c.homeserver_url.back() == '/') c.homeserver_url.pop_back();
  c.server_name = read_string(root, "server_name", true);
  c.registration_file = resolve(base, read_string(root, "registration_file", true));
  if (auto p = read_string(root, "guest_prefix", false); !p.empty()) c.guest_prefix = p;
  c.public_url = read_string(root, "public_url", false);
  if (c.public_url.empty()) c.public_url = "http://" + c.bind_address + ":" + std::to_string(c.port);
  while (c.public_url.back() == '/') c.public_url.pop_back();
  if (const YAML::Node g = root["guests"]; g && !g.IsNull()) {
    if (!g.IsMap()) throw ConfigError("guests", "expected a mapping");
    check_keys(g, "guests.", {"idle_check_interval_ms"});
    c.idle_check_interval_ms = read_int(g, "guests.idle_check_interval_ms",
                                        "idle_check_interval_ms", c.idle_check_interval_ms, 100,
                                        3600 * 1000);
  }
  if (const YAML::Node g = root["guest_page"]; g && !g.IsNull()) {
    if (!g.IsMap()) throw ConfigError("guest_page", "expected a mapping");
    check_keys(g, "guest_page.", {"dir", "homeserver_url"});
    if (const YAML::Node d = g["dir"]; d && !d.IsNull()) {
      if (!d.IsScalar()) throw ConfigError("guest_page.dir", "expected a string");
      c.guest_page_dir = resolve(base, d.Scalar());
    }
    if (const YAML::Node u = g["homeserver_url"]; u && !u.IsNull()) {
      if (!u.IsScalar()) throw ConfigError("guest_page.homeserver_url", "expected a string");
      c.guest_homeserver_url = u.Scalar();
    }
  }
  if (c.guest_page_dir.empty()) c.guest_page_dir = default_guest_page_dir();
  while (!c.guest_homeserver_url.empty() && c.guest_homeserver_url.back() == '/') {
    c.guest_homeserver_url.pop_back();
  }
  if (c.guest_homeserver_url.empty()) c.guest_homeserver_url = c.homeserver_url;
  if (const YAML::Node t = root["testing"]; t && !t.IsNull()) {
    if (!t.IsMap()) throw ConfigError("testing", "expected a mapping");
    check_keys(t, "testing.", {"fake_clock"});
    c.fake_clock = read_bool(t, "testing.fake_clock", "fake_clock");
  }
  read_registration(c);
  return c;
}

}  // namespace

std::optional<CareConfig> load_care_config(const std::string& path, std::string* error) {
  try {
    YAML::Node root = YAML::LoadFile(path);
    return parse(root, std::filesystem::path(path).parent_path());
  } catch (const ConfigError& e) {
    *error = path + ": " + e.what();
  } catch (const YAML::Exception& e) {
    *error = path + ": " + e.what();
  }
  return std::nullopt;
}

GeneratedCareConfig generate_care_config(const std::string& server_name,
                                         const std::string& data_dir,
                                         const std::string& homeserver_url, int port,
                                         const std::string& registration_file) {
  GeneratedCareConfig g;
  std::string escaped_server;
  for (char ch : server_name) {
    if (ch == '.') escaped_server += "\\\\";
    escaped_server += ch;
  }
  g.registration_yaml =
      "# haven-care's application service registration: list this file under\n"
      "# app_service_config_files in homeserver.yaml.\n"
      "id: haven-care\n"
      "url: http://127.0.0.1:" + std::to_string(port) + "\n" +
      "as_token: " + crypto::random_token(32) + "\n" +
      "hs_token: " + crypto::random_token(32) + "\n" +
      "sender_localpart: care\n"
      "rate_limited: false\n"
      "# haven-care's own device in encrypted temporary conversations: its to-device messages\n"
      "# and key counts come in transactions.\n"
      "receive_ephemeral: true\n"
      "org.matrix.msc3202: true\n"
      "# Haven extension: the sender may use the operator API (features, owners, guests).\n"
      "org.haven.operator: true\n"
      "namespaces:\n"
      "  users:\n"
      "    - exclusive: true\n"
      "      regex: \"@care_guest_.*:" + escaped_server + "\"\n";
  g.care_yaml =
      "# haven-care: the bundled care application service (guest links).\n"
      "listen:\n"
      "  bind_address: 127.0.0.1\n"
      "  port: " + std::to_string(port) + "\n" +
      "# public_url: https://care.example.org   # base of guest link URLs\n"
      "data_dir: " + data_dir + "\n" +
      "homeserver_url: " + homeserver_url + "\n" +
      "server_name: " + server_name + "\n" +
      "registration_file: " + registration_file + "\n" +
      "guests:\n"
      "  idle_check_interval_ms: 60000\n"
      "# The guest page's files (the web client built from appservices/care/web); by default\n"
      "# the web/ folder beside the haven-care program, where the build puts them.\n"
      "# homeserver_url is where the guests' browsers reach haven too, unless set here.\n"
      "# guest_page:\n"
      "#   dir: /usr/share/haven-care/web\n"
      "#   homeserver_url: https://matrix.example.org\n"
      "testing:\n"
      "  fake_clock: false\n";
  return g;
}

}  // namespace haven::care
