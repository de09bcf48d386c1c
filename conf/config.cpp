// Loading, validation and generation of homeserver.yaml. One table of options drives both the
// loader and the generator, so a new option is read, checked and documented in one place.

#include "conf/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "conf/appservice_registration.h"
#include "crypto/random.h"

namespace haven::conf {
namespace {

// Thrown while reading; load_config turns it into the one-line error. Exceptions stay inside
// this file.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(const std::string& key, const std::string& problem)
      : std::runtime_error(key + ": " + problem) {}
};

// A value as it appears in an error message: quoted, one line, not too long.
std::string shown(std::string_view text) {
  constexpr size_t kMaxShown = 60;
  std::string out = "'";
  for (char ch : text.substr(0, kMaxShown)) {
    if (ch == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      out += '?';
    } else {
      out += ch;
    }
  }
  if (text.size() > kMaxShown) out += "...";
  return out + "'";
}

// What a non-scalar node is, for "expected X, got Y".
std::string describe(const YAML::Node& node) {
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  if (node.IsNull()) return "an empty value";
  return shown(node.Scalar());
}

// The scalar text of `node`, or an error naming what was expected instead.
std::string scalar_text(const YAML::Node& node, const std::string& key, const char* expected) {
  if (!node.IsScalar())
    throw ConfigError(key, std::string("expected ") + expected + ", got " + describe(node));
  return node.Scalar();
}

template <typename T>
T read_integer(const YAML::Node& node, const std::string& key, T min, T max) {
  const std::string text = scalar_text(node, key, "an integer");
  const char* begin = text.data();
  const char* end = begin + text.size();
  const bool negative = !text.empty() && text[0] == '-';
  long long signed_value = 0;
  unsigned long long unsigned_value = 0;
  std::from_chars_result parsed = negative ? std::from_chars(begin, end, signed_value)
                                           : std::from_chars(begin, end, unsigned_value);
  if (parsed.ptr != end ||
      (parsed.ec != std::errc() && parsed.ec != std::errc::result_out_of_range)) {
    throw ConfigError(key, "expected an integer, got " + shown(text));
  }
  if (negative && std::cmp_greater_equal(min, 0)) {
    throw ConfigError(key, "must not be negative, got " + text);
  }
  const bool overflow = parsed.ec != std::errc();
  const bool below = negative ? overflow || std::cmp_less(signed_value, min)
                              : !overflow && std::cmp_less(unsigned_value, min);
  const bool above = !negative && (overflow || std::cmp_greater(unsigned_value, max));
  if (below || above) {
    std::string problem;
    if (max != std::numeric_limits<T>::max()) {
      problem = "must be between " + std::to_string(min) + " and " + std::to_string(max);
    } else if (below) {
      problem = "must be at least " + std::to_string(min);
    } else {
      problem = "must be at most " + std::to_string(max);
    }
    throw ConfigError(key, problem + ", got " + text);
  }
  return negative ? static_cast<T>(signed_value) : static_cast<T>(unsigned_value);
}

double read_non_negative_number(const YAML::Node& node, const std::string& key) {
  const std::string text = scalar_text(node, key, "a number");
  double value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || !std::isfinite(value)) {
    throw ConfigError(key, "expected a number, got " + shown(text));
  }
  if (value < 0) throw ConfigError(key, "must not be negative, got " + text);
  return value;
}

bool read_bool(const YAML::Node& node, const std::string& key) {
  const std::string text = scalar_text(node, key, "true or false");
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  // YAML 1.2's true/false plus the YAML 1.1 words Synapse's configs (PyYAML) also accept.
  if (lower == "true" || lower == "yes" || lower == "on") return true;
  if (lower == "false" || lower == "no" || lower == "off") return false;
  throw ConfigError(key, "expected true or false, got " + shown(text));
}

std::string read_string(const YAML::Node& node, const std::string& key) {
  if (node.IsNull()) return "";  // `key:` with nothing after it
  return scalar_text(node, key, "a string");
}

// The server name grammar of the spec's appendix: hostname [ ":" port ], where hostname is
// an IPv4 address, "[" IPv6 address "]" or a DNS name. An IPv4 address is also a valid DNS
// name under that grammar, so it needs no separate branch.
bool is_valid_server_name(std::string_view name) {
  std::string_view host = name;
  std::string_view port;
  if (!name.empty() && name.front() == '[') {
    const size_t close = name.find(']');
    if (close == std::string_view::npos) return false;
    host = name.substr(0, close + 1);
    std::string_view rest = name.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
      if (port.empty()) return false;
    }
    const std::string_view address = host.substr(1, host.size() - 2);
    if (address.size() < 2 || address.size() > 45) return false;
    for (char ch : address) {
      if (!std::isxdigit(static_cast<unsigned char>(ch)) && ch != ':' && ch != '.') return false;
    }
  } else {
    const size_t colon = name.find(':');
    if (colon != std::string_view::npos) {
      host = name.substr(0, colon);
      port = name.substr(colon + 1);
      if (port.empty()) return false;
    }
    if (host.empty() || host.size() > 255) return false;
    for (char ch : host) {
      if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '.') return false;
    }
  }
  if (!port.empty()) {
    if (port.size() > 5) return false;
    int value = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || ptr != port.data() + port.size() || value < 1 || value > 65535) {
      return false;
    }
  }
  return true;
}

constexpr const char* kServerNameForm =
    "hostname, IPv4 address or [IPv6 address], optionally followed by :port";

// Checks a string value; returns the problem, or "" when the value is fine.
using Check = std::function<std::string(const std::string&)>;

std::string check_server_name(const std::string& value) {
  if (value.empty()) return "must not be empty";
  if (!is_valid_server_name(value)) {
    return shown(value) + " is not a valid server name (" + kServerNameForm + ")";
  }
  return "";
}

std::string check_not_empty(const std::string& value) {
  return value.empty() ? "must not be empty" : "";
}

Check one_of(std::vector<std::string> allowed) {
  return [allowed = std::move(allowed)](const std::string& value) -> std::string {
    if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return "";
    std::string list;
    for (size_t i = 0; i < allowed.size(); ++i) {
      list += (i == 0 ? "" : i + 1 == allowed.size() ? " or " : ", ") + allowed[i];
    }
    return "must be " + list + ", got " + shown(value);
  };
}

std::string check_base_url(const std::string& value) {
  if (value.empty() || value.starts_with("http://") || value.starts_with("https://")) return "";
  return "must start with http:// or https://, got " + shown(value);
}

// An allowed_servers entry: "*", "*.<domain>" or a server name.
std::string check_server_pattern(const std::string& value) {
  if (value == "*") return "";
  if (value.starts_with("*.")) {
    const std::string domain = value.substr(2);
    if (!domain.empty() && domain.find(':') == std::string::npos && domain.front() != '[' &&
        is_valid_server_name(domain)) {
      return "";
    }
    return shown(value) + " is not a valid pattern (\"*\", \"*.example.org\" or a server name)";
  }
  return check_server_name(value);
}

// A test_host_overrides entry: "<server name>=<host>:<port>".
std::string check_host_override(const std::string& value) {
  const size_t eq = value.find('=');
  const std::string form = " is not of the form server_name=host:port";
  if (eq == std::string::npos) return shown(value) + form;
  const std::string name = value.substr(0, eq), target = value.substr(eq + 1);
  if (!is_valid_server_name(name) || !is_valid_server_name(target)) return shown(value) + form;
  const size_t close = target.rfind(']');
  const size_t colon = target.rfind(':');
  if (colon == std::string::npos || (close != std::string::npos && colon < close)) {
    return shown(value) + form + " (the port is required)";
  }
  return "";
}

// YAML text of a value, written so that load_config reads back exactly the same value.
std::string yaml_string(const std::string& value) {
  std::string out = "\"";
  for (char ch : value) {
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\x%02x", static_cast<unsigned char>(ch));
          out += escaped;
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

std::string yaml_number(double value) {
  char buffer[64];
  auto [ptr, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);  // shortest round trip
  return std::string(buffer, ptr);
}

// One option of the file: its dotted key, its comment in the generated file, and how to read
// it into / write it from a Config.
struct Option {
  std::string key;
  std::string help;
  std::function<void(const YAML::Node&, Config&)> read;
  std::function<std::string(Config&)> write;
};

// A mapping that groups options (e.g. "listeners.client"), with its comment.
struct Section {
  std::string key;
  std::string help;
};

template <typename T>
using Field = std::function<T&(Config&)>;

Option string_option(std::string key, Field<std::string> field, std::string help,
                     Check check = nullptr) {
  auto read = [key, field, check](const YAML::Node& node, Config& config) {
    std::string value = read_string(node, key);
    if (check) {
      if (std::string problem = check(value); !problem.empty()) throw ConfigError(key, problem);
    }
    field(config) = std::move(value);
  };
  auto write = [field](Config& config) { return yaml_string(field(config)); };
  return {std::move(key), std::move(help), read, write};
}

Option bool_option(std::string key, Field<bool> field, std::string help) {
  auto read = [key, field](const YAML::Node& node, Config& config) {
    field(config) = read_bool(node, key);
  };
  auto write = [field](Config& config) { return std::string(field(config) ? "true" : "false"); };
  return {std::move(key), std::move(help), read, write};
}

template <typename T>
Option integer_option(std::string key, std::type_identity_t<Field<T>> field, T min, T max,
                      std::string help) {
  auto read = [key, field, min, max](const YAML::Node& node, Config& config) {
    field(config) = read_integer<T>(node, key, min, max);
  };
  auto write = [field](Config& config) { return std::to_string(field(config)); };
  return {std::move(key), std::move(help), read, write};
}

Option rate_option(std::string key, Field<double> field, std::string help) {
  auto read = [key, field](const YAML::Node& node, Config& config) {
    field(config) = read_non_negative_number(node, key);
  };
  auto write = [field](Config& config) { return yaml_number(field(config)); };
  return {std::move(key), std::move(help), read, write};
}

// A list of non-empty strings, written as a YAML flow sequence on one line.
// `check`, when given, is applied to every item.
Option string_list_option(std::string key, Field<std::vector<std::string>> field,
                          std::string help, Check check = nullptr) {
  auto read = [key, field, check](const YAML::Node& node, Config& config) {
    if (!node.IsSequence()) {
      throw ConfigError(key, "expected a list of strings, got " + describe(node));
    }
    std::vector<std::string> values;
    for (const auto& item : node) {
      std::string value = scalar_text(item, key, "a string");
      if (value.empty()) throw ConfigError(key, "list items must not be empty");
      if (check) {
        if (std::string problem = check(value); !problem.empty()) throw ConfigError(key, problem);
      }
      values.push_back(std::move(value));
    }
    field(config) = std::move(values);
  };
  auto write = [field](Config& config) {
    std::string out = "[";
    for (const std::string& value : field(config)) {
      out += (out.size() > 1 ? ", " : "") + yaml_string(value);
    }
    return out + "]";
  };
  return {std::move(key), std::move(help), read, write};
}

constexpr int kIntMax = std::numeric_limits<int>::max();
constexpr uint64_t kUint64Max = std::numeric_limits<uint64_t>::max();
// Map sizes are given in MiB and used in bytes; keep the byte count within 64 bits.
constexpr uint64_t kMaxMapSizeMb = kUint64Max >> 20;

const std::vector<Section>& sections() {
  static const std::vector<Section> kSections = {
      {"listeners", "Where the server listens for HTTP connections."},
      {"listeners.client",
       "The Client-Server API listener. It speaks plain HTTP: put a TLS-terminating reverse\n"
       "proxy in front of it when clients connect from other machines."},
      {"listeners.federation", "The Server-Server (federation) API listener."},
      {"storage", "The embedded LMDB database in data_dir."},
      {"registration", "Account registration and access tokens."},
      {"rooms", "Defaults for newly created rooms."},
      {"media", "The content repository: uploaded files and their thumbnails."},
      {"limits", "Limits on what clients may send."},
      {"rate_limits", "Request rate limits. Each has a sustained rate and a burst allowance."},
      {"rate_limits.rc_login", "Login attempts."},
      {"rate_limits.rc_registration", "Registration attempts."},
      {"rate_limits.rc_message", "Messages and other events sent into rooms."},
      {"care",
       "The care organisation's rules: roles, contacts, conversation owners and anonymity\n"
       "(see README.md). Turn them off only for a generic Matrix server."},
      {"care.power_levels",
       "The conversation template: power levels of every room a local user creates while the\n"
       "care rules apply. The creator (the owner) has 100."},
      {"federation",
       "The Server-Server API: which servers this one federates with, and how it trusts them.\n"
       "Inbound requests from servers not allowed here are refused with 403 M_FORBIDDEN, and\n"
       "this server sends nothing to them."},
      {"delayed_events",
       "Delayed events (MSC4140): events the server sends later for a client, e.g. a call's\n"
       "hang-up when the client vanishes."},
      {"voip",
       "TURN servers for calls. Clients get time-limited credentials made with the shared\n"
       "secret (coturn: use-auth-secret, static-auth-secret). No URIs: no TURN offered."},
      {"presence", "Online status."},
      {"email",
       "New-message emails: a neutral notice (no message text, sender or room name) with a\n"
       "link to the client, sent to users who have an email address and are not online.\n"
       "Leave smtp_url empty to send no email at all."},
      {"testing", "For test harnesses only. Never turn these on in production."},
      {"logging", "Logging."},
  };
  return kSections;
}

void add_rate_limit(std::vector<Option>& options, const std::string& key, Field<RateLimit> limit) {
  options.push_back(rate_option(
      key + ".per_second", [limit](Config& c) -> double& { return limit(c).per_second; },
      "Sustained requests per second; 0 means unlimited."));
  options.push_back(integer_option<int>(
      key + ".burst_count", [limit](Config& c) -> int& { return limit(c).burst; }, 0, kIntMax,
      "Requests allowed in a burst before the sustained rate applies."));
}

void add_care_options(std::vector<Option>& o) {
  o.push_back(bool_option(
      "care.enabled", [](Config& c) -> bool& { return c.care.enabled; },
      "Enforce the care rules: users may invite only their contacts, the owner cannot leave,\n"
      "non-contacts see each other only by per-room nickname, conversations get the template."));
  o.push_back(bool_option(
      "care.guest_links", [](Config& c) -> bool& { return c.care.guest_links; },
      "Let conversation owners create guest links. The admin API can change this at run time."));
  o.push_back(bool_option(
      "care.temporary_rooms", [](Config& c) -> bool& { return c.care.temporary_rooms; },
      "Let professionals start temporary conversations. The admin API can change this too."));
  o.push_back(string_option(
      "care.room_version", [](Config& c) -> std::string& { return c.care.room_version; },
      "Room version of conversations: \"10\" or \"11\". (In version 12 the creator's power\n"
      "cannot be handed over, so the operator could not name a new owner.)",
      one_of({"10", "11"})));
  struct Level {
    const char* name;
    int Care::*field;
    const char* help;
  };
  static const Level kLevels[] = {
      {"invite", &Care::invite, "Power level needed to invite."},
      {"kick", &Care::kick, "Power level needed to remove a participant."},
      {"ban", &Care::ban, "Power level needed to ban."},
      {"redact", &Care::redact, "Power level needed to redact other people's events."},
      {"state_default", &Care::state_default, "Power level needed for other state events."},
      {"events_default", &Care::events_default,
       "Power level needed to send messages and other non-state events."},
  };
  for (const Level& level : kLevels) {
    auto field = level.field;
    o.push_back(integer_option<int>(
        std::string("care.power_levels.") + level.name,
        [field](Config& c) -> int& { return c.care.*field; }, 0, 100, level.help));
  }
  o.push_back(string_list_option(
      "care.power_levels.owner_only_events",
      [](Config& c) -> std::vector<std::string>& { return c.care.owner_only_events; },
      "Event types that need power level 100 (the owner's)."));
}

void add_federation_options(std::vector<Option>& o) {
  using List = std::vector<std::string>;
  o.push_back(string_list_option(
      "federation.allowed_servers",
      [](Config& c) -> List& { return c.federation.allowed_servers; },
      "Servers this one federates with: server names (\"care.example.org\"), patterns for a\n"
      "domain and its subdomains' names (\"*.example.org\"), or \"*\" for every server.\n"
      "Empty: no other server (federation closed); this server's keys are still published.",
      check_server_pattern));
  o.push_back(string_list_option(
      "federation.trusted_key_servers",
      [](Config& c) -> List& { return c.federation.trusted_key_servers; },
      "Notary servers asked (POST /_matrix/key/v2/query) for a server's signing keys when that\n"
      "server cannot be reached directly. They must be allowed by allowed_servers too.\n"
      "Empty: keys are fetched only from their servers.",
      check_server_name));
  o.push_back(bool_option(
      "federation.verify_certificates",
      [](Config& c) -> bool& { return c.federation.verify_certificates; },
      "Check remote servers' TLS certificates against the system's certificate authorities.\n"
      "Can be false only together with insecure_test_servers, and then only the servers named\n"
      "there go unchecked: never all servers."));
  o.push_back(string_list_option(
      "federation.insecure_test_servers",
      [](Config& c) -> List& { return c.federation.insecure_test_servers; },
      "For test set-ups only: servers whose certificates are not checked when\n"
      "verify_certificates is false (e.g. servers with self-signed certificates).",
      check_server_name));
  o.push_back(string_list_option(
      "federation.test_host_overrides",
      [](Config& c) -> List& { return c.federation.test_host_overrides; },
      "For test set-ups only: \"server_name=host:port\" entries that send requests for\n"
      "server_name to host:port instead of discovering it through .well-known and DNS SRV.\n"
      "The Host header and the certificate name stay those of server_name.",
      check_host_override));
}

std::string check_smtp_url(const std::string& value) {
  if (value.empty() || value.starts_with("smtp://") || value.starts_with("smtps://")) return "";
  return "must start with smtp:// or smtps://, got " + shown(value);
}

void add_email_options(std::vector<Option>& o) {
  o.push_back(string_option(
      "email.smtp_url", [](Config& c) -> std::string& { return c.email.smtp_url; },
      "The mail server: smtp://host:587 (STARTTLS when the server offers it) or\n"
      "smtps://host:465 (TLS from the start). Empty: no email is sent.",
      check_smtp_url));
  o.push_back(string_option(
      "email.smtp_username", [](Config& c) -> std::string& { return c.email.smtp_username; },
      "User name for SMTP AUTH. Empty: no authentication."));
  o.push_back(string_option(
      "email.smtp_password", [](Config& c) -> std::string& { return c.email.smtp_password; },
      "Password for SMTP AUTH."));
  o.push_back(bool_option(
      "email.require_starttls", [](Config& c) -> bool& { return c.email.require_starttls; },
      "With smtp://, send nothing unless the server accepts STARTTLS."));
  o.push_back(string_option(
      "email.smtp_ca_file", [](Config& c) -> std::string& { return c.email.smtp_ca_file; },
      "PEM file of the CA certificates that may sign the mail server's certificate (for a\n"
      "private CA). Empty: the system's trusted CAs. The certificate is always verified."));
  o.push_back(string_option(
      "email.from", [](Config& c) -> std::string& { return c.email.from; },
      "The sender address of the notices, e.g. noreply@example.org. Needed with smtp_url."));
  o.push_back(string_option(
      "email.client_base_url", [](Config& c) -> std::string& { return c.email.client_base_url; },
      "The web address of the chat client the notices link to, e.g. https://chat.example.org/\n"
      "Needed with smtp_url.",
      check_base_url));
  o.push_back(integer_option<int>(
      "email.idle_minutes", [](Config& c) -> int& { return c.email.idle_minutes; }, 1, 10080,
      "No notice is sent while the recipient has been active (syncing, online) within this\n"
      "many minutes; it goes out once they have been idle this long and still not read it."));
}

// In the order the generated file lists them.
const std::vector<Option>& options() {
  static const std::vector<Option> kOptions = [] {
    std::vector<Option> o;
    o.push_back(string_option(
        "server_name", [](Config& c) -> std::string& { return c.server_name; },
        "The name of this homeserver: the part after the ':' in user IDs and room aliases\n"
        "(@alice:example.org). A hostname, IPv4 address or [IPv6 address], optionally followed\n"
        "by :port. It cannot be changed once the server has users or rooms.",
        check_server_name));
    o.push_back(bool_option(
        "server_name_from_env", [](Config& c) -> bool& { return c.server_name_from_env; },
        "Take the server name from the SERVER_NAME environment variable instead of\n"
        "server_name (for test harnesses such as Complement)."));
    o.push_back(string_option(
        "public_baseurl", [](Config& c) -> std::string& { return c.public_baseurl; },
        "The URL clients use to reach the Client-Server API, e.g. https://matrix.example.org/\n"
        "Empty: derived from the client listener.",
        check_base_url));
    o.push_back(string_option(
        "data_dir", [](Config& c) -> std::string& { return c.data_dir; },
        "Directory for the server's data: the database, media and (by default) the signing key.",
        check_not_empty));
    o.push_back(string_option(
        "signing_key_path", [](Config& c) -> std::string& { return c.signing_key_path; },
        "The server's ed25519 signing key file. Empty: <data_dir>/signing.key"));

    o.push_back(string_option(
        "listeners.client.bind_address",
        [](Config& c) -> std::string& { return c.client_listener.bind_address; },
        "Address to listen on: 127.0.0.1 for this machine only, 0.0.0.0 or :: for all.",
        check_not_empty));
    o.push_back(integer_option<int>(
        "listeners.client.port", [](Config& c) -> int& { return c.client_listener.port; }, 1, 65535,
        "TCP port, 1 to 65535."));
    o.push_back(string_option(
        "listeners.federation.bind_address",
        [](Config& c) -> std::string& { return c.federation_listener.bind_address; },
        "Address to listen on: 127.0.0.1 for this machine only, 0.0.0.0 or :: for all.",
        check_not_empty));
    o.push_back(integer_option<int>(
        "listeners.federation.port", [](Config& c) -> int& { return c.federation_listener.port; },
        0, 65535, "TCP port, 1 to 65535; 0 disables federation."));
    o.push_back(string_option(
        "listeners.federation.tls_certificate_path",
        [](Config& c) -> std::string& { return c.tls_certificate_path; },
        "PEM certificate chain for the federation listener (HTTPS). Leave this and\n"
        "tls_private_key_path empty to serve plain HTTP, only behind a reverse proxy that\n"
        "terminates TLS: other servers speak to this one over HTTPS only."));
    o.push_back(string_option(
        "listeners.federation.tls_private_key_path",
        [](Config& c) -> std::string& { return c.tls_private_key_path; },
        "PEM private key of tls_certificate_path."));

    o.push_back(integer_option<uint64_t>(
        "storage.lmdb_map_size_mb", [](Config& c) -> uint64_t& { return c.lmdb_map_size_mb; }, 1,
        kMaxMapSizeMb, "Initial size of the database map, in MiB; it grows as data is added."));
    o.push_back(integer_option<uint64_t>(
        "storage.lmdb_max_map_size_mb",
        [](Config& c) -> uint64_t& { return c.lmdb_max_map_size_mb; }, 1, kMaxMapSizeMb,
        "The map never grows beyond this many MiB. At least lmdb_map_size_mb."));

    o.push_back(bool_option(
        "registration.enable_registration",
        [](Config& c) -> bool& { return c.enable_registration; },
        "Let anyone create an account through the Client-Server API. When false, accounts\n"
        "are created by administrators or with registration_shared_secret."));
    o.push_back(string_option(
        "registration.registration_shared_secret",
        [](Config& c) -> std::string& { return c.registration_shared_secret; },
        "Secret that lets its holder create accounts through the shared-secret registration\n"
        "admin API, whatever enable_registration says. Keep it private. Empty disables that API."));
    o.push_back(bool_option(
        "registration.registration_requires_token",
        [](Config& c) -> bool& { return c.registration_requires_token; },
        "Require a registration token (m.login.registration_token) to register through the\n"
        "Client-Server API."));
    o.push_back(integer_option<int64_t>(
        "registration.access_token_lifetime_ms",
        [](Config& c) -> int64_t& { return c.access_token_lifetime_ms; }, 0,
        std::numeric_limits<int64_t>::max() / 2,
        "How long an access token stays valid, in milliseconds; 0 means tokens do not expire."));

    o.push_back(string_option(
        "rooms.default_room_version",
        [](Config& c) -> std::string& { return c.default_room_version; },
        "Room version of newly created rooms: \"10\", \"11\" or \"12\".",
        one_of({"10", "11", "12"})));
    o.push_back(bool_option(
        "rooms.encryption_enabled_by_default",
        [](Config& c) -> bool& { return c.encryption_enabled_by_default; },
        "Turn on end-to-end encryption in every newly created room."));

    o.push_back(integer_option<uint64_t>(
        "media.max_upload_size_mb",
        [](Config& c) -> uint64_t& { return c.media_max_upload_size_mb; }, 1, 1 << 20,
        "Largest file a user may upload, in MiB."));
    o.push_back(bool_option(
        "media.freeze_legacy_media",
        [](Config& c) -> bool& { return c.media_freeze_legacy_media; },
        "Serve media uploaded while this is true only through the authenticated media API\n"
        "(Matrix 1.11), not the deprecated unauthenticated /_matrix/media/v3 downloads."));
    o.push_back(string_option(
        "media.store_path", [](Config& c) -> std::string& { return c.media_store_path; },
        "Directory holding the uploaded files. Empty: <data_dir>/media"));

    o.push_back(integer_option<uint64_t>(
        "limits.max_request_body_bytes",
        [](Config& c) -> uint64_t& { return c.max_request_body_bytes; }, 1, kUint64Max,
        "Largest Client-Server API request body (JSON) accepted, in bytes."));
    o.push_back(integer_option<int>(
        "limits.max_json_depth", [](Config& c) -> int& { return c.max_json_depth; }, 1, kIntMax,
        "Deepest nesting of objects and arrays accepted in request JSON."));

    add_rate_limit(o, "rate_limits.rc_login", [](Config& c) -> RateLimit& { return c.rc_login; });
    add_rate_limit(o, "rate_limits.rc_registration",
                   [](Config& c) -> RateLimit& { return c.rc_registration; });
    add_rate_limit(o, "rate_limits.rc_message",
                   [](Config& c) -> RateLimit& { return c.rc_message; });

    add_care_options(o);

    o.push_back(string_list_option(
        "app_service_config_files",
        [](Config& c) -> std::vector<std::string>& { return c.app_service_config_files; },
        "Application service registration files (YAML: id, url, as_token, hs_token,\n"
        "sender_localpart, namespaces). Relative paths start from this file's directory."));
    add_federation_options(o);

    o.push_back(integer_option<int64_t>(
        "delayed_events.max_delay_ms",
        [](Config& c) -> int64_t& { return c.delayed_events_max_delay_ms; }, 0,
        int64_t{30} * 24 * 3600 * 1000,
        "Longest delay a client may ask for, in milliseconds (longer: M_MAX_DELAY_EXCEEDED).\n"
        "0 turns delayed events off."));
    o.push_back(integer_option<int>(
        "delayed_events.max_per_user",
        [](Config& c) -> int& { return c.delayed_events_max_per_user; }, 1, 100000,
        "Most delayed events one user may have waiting at once."));

    o.push_back(string_list_option(
        "voip.turn_uris", [](Config& c) -> std::vector<std::string>& { return c.turn_uris; },
        "TURN server URIs given to clients, e.g. \"turn:turn.example.org:3478?transport=udp\"."));
    o.push_back(string_option(
        "voip.turn_shared_secret", [](Config& c) -> std::string& { return c.turn_shared_secret; },
        "The secret shared with the TURN server (coturn's static-auth-secret)."));
    o.push_back(integer_option<int>(
        "voip.turn_user_lifetime_seconds",
        [](Config& c) -> int& { return c.turn_user_lifetime_seconds; }, 60, 7 * 86400,
        "How long the TURN credentials handed out stay valid, in seconds."));
    o.push_back(bool_option(
        "voip.turn_allow_guests", [](Config& c) -> bool& { return c.turn_allow_guests; },
        "Give TURN credentials to guest users too."));

    o.push_back(integer_option<int>(
        "presence.offline_after_seconds",
        [](Config& c) -> int& { return c.presence_offline_after_seconds; }, 10, 86400,
        "A user who has not synced or otherwise been active for this many seconds shows as\n"
        "offline. (Idle for 5 minutes shows as unavailable before that.)"));

    add_email_options(o);
    o.push_back(bool_option(
        "testing.fake_clock", [](Config& c) -> bool& { return c.testing.fake_clock; },
        "Let server admins move the server's clock forward with\n"
        "POST /_haven/admin/v1/testing/clock {\"advance_ms\": N}, so that tests of digests and\n"
        "expiry take seconds. When false that endpoint answers 404."));

    o.push_back(string_option(
        "logging.level", [](Config& c) -> std::string& { return c.log_level; },
        "Least severe messages logged: debug, info, warn or error.",
        one_of({"debug", "info", "warn", "error"})));
    o.push_back(integer_option<int>(
        "worker_threads", [](Config& c) -> int& { return c.worker_threads; }, 1, 1024,
        "Threads for CPU-heavy work: password hashing, signature checks, state resolution."));
    return o;
  }();
  return kOptions;
}

const Option* find_option(const std::string& key) {
  for (const Option& option : options()) {
    if (option.key == key) return &option;
  }
  return nullptr;
}

bool is_section(const std::string& key) {
  return std::any_of(sections().begin(), sections().end(),
                     [&](const Section& s) { return s.key == key; });
}

std::string join_key(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

// The keys allowed directly inside the mapping at `prefix` ("" = top level).
std::vector<std::string> children_of(const std::string& prefix) {
  std::vector<std::string> names;
  auto add = [&](const std::string& key) {
    const std::string start = prefix.empty() ? "" : prefix + ".";
    if (!key.starts_with(start)) return;
    const std::string rest = key.substr(start.size());
    if (rest.find('.') == std::string::npos) names.push_back(rest);
  };
  for (const Option& option : options()) add(option.key);
  for (const Section& section : sections()) add(section.key);
  return names;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string unknown_key_problem(const std::string& prefix, const std::string& name) {
  std::string best;
  size_t best_distance = 3;  // suggest only near misses
  for (const std::string& candidate : children_of(prefix)) {
    const size_t distance = edit_distance(name, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best.empty() ? "unknown key" : "unknown key (did you mean '" + best + "'?)";
}

void read_mapping(const YAML::Node& node, const std::string& prefix, Config& config) {
  if (node.IsNull()) return;  // `listeners:` with nothing under it: all defaults
  if (!node.IsMap()) {
    throw ConfigError(prefix.empty() ? "top level" : prefix,
                      "expected a mapping of options, got " + describe(node));
  }
  std::set<std::string> seen;
  for (const auto& entry : node) {
    if (!entry.first.IsScalar()) {
      throw ConfigError(prefix.empty() ? "top level" : prefix, "keys must be plain names");
    }
    const std::string key = join_key(prefix, entry.first.Scalar());
    if (!seen.insert(key).second) throw ConfigError(key, "appears more than once");
    if (const Option* option = find_option(key)) {
      option->read(entry.second, config);
    } else if (is_section(key)) {
      read_mapping(entry.second, key, config);
    } else {
      throw ConfigError(key, unknown_key_problem(prefix, entry.first.Scalar()));
    }
  }
}

// Rules that involve more than one option, and the environment.
void check_whole(Config& config) {
  if (config.lmdb_max_map_size_mb < config.lmdb_map_size_mb) {
    throw ConfigError("storage.lmdb_max_map_size_mb",
                      "must be at least storage.lmdb_map_size_mb (" +
                          std::to_string(config.lmdb_map_size_mb) + "), got " +
                          std::to_string(config.lmdb_max_map_size_mb));
  }
  if (config.tls_certificate_path.empty() != config.tls_private_key_path.empty()) {
    throw ConfigError(config.tls_certificate_path.empty()
                          ? "listeners.federation.tls_certificate_path"
                          : "listeners.federation.tls_private_key_path",
                      "must be set together with the other of tls_certificate_path and "
                      "tls_private_key_path");
  }
  const Federation& federation = config.federation;
  if (!federation.verify_certificates && federation.insecure_test_servers.empty()) {
    throw ConfigError("federation.verify_certificates",
                      "may be false only when federation.insecure_test_servers names the "
                      "servers whose certificates go unchecked");
  }
  if (federation.verify_certificates && !federation.insecure_test_servers.empty()) {
    throw ConfigError("federation.insecure_test_servers",
                      "has no effect while federation.verify_certificates is true: set it to "
                      "false, or empty this list");
  }
  if (!config.public_baseurl.empty() && !config.public_baseurl.ends_with('/')) {
    config.public_baseurl += '/';  // callers append paths without a leading slash
  }
  if (config.email.enabled()) {
    if (config.email.from.empty()) throw ConfigError("email.from", "must be set with smtp_url");
    if (config.email.from.find_first_of("\r\n<>") != std::string::npos ||
        config.email.from.find('@') == std::string::npos) {
      throw ConfigError("email.from", "must be a plain address, got " + shown(config.email.from));
    }
    if (config.email.client_base_url.empty()) {
      throw ConfigError("email.client_base_url", "must be set with smtp_url");
    }
  }
  if (config.server_name_from_env) {
    const char* value = std::getenv("SERVER_NAME");
    if (value == nullptr || *value == '\0') {
      throw ConfigError("server_name_from_env", "is true but SERVER_NAME is not set");
    }
    if (!is_valid_server_name(value)) {
      throw ConfigError(
          "server_name_from_env",
          "SERVER_NAME " + shown(value) + " is not a valid server name (" + kServerNameForm + ")");
    }
    config.server_name = value;
  }
}

// Reads every registration file named in app_service_config_files; a bad one stops start-up.
void load_app_services(const std::string& config_path, Config& config) {
  const std::filesystem::path base = std::filesystem::path(config_path).parent_path();
  for (const std::string& name : config.app_service_config_files) {
    std::filesystem::path file(name);
    if (file.is_relative()) file = base / file;
    std::string problem;
    auto registration = load_appservice_registration(file.string(), &problem);
    if (!registration) throw ConfigError("app_service_config_files", file.string() + ": " + problem);
    config.app_services.push_back(std::move(*registration));
  }
  if (std::string problem = check_appservice_registrations(config.app_services); !problem.empty()) {
    throw ConfigError("app_service_config_files", problem);
  }
}

void write_comment(std::ostringstream& out, const std::string& indent, const std::string& help) {
  std::istringstream lines(help);
  for (std::string line; std::getline(lines, line);) out << indent << "# " << line << '\n';
}

}  // namespace

std::optional<Config> load_config(const std::string& path, std::string* error) {
  auto fail = [&](const std::string& message) -> std::optional<Config> {
    if (error != nullptr) *error = path + ": " + message;
    return std::nullopt;
  };
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return fail("cannot read: is a directory");
  std::ifstream file(path, std::ios::binary);
  if (!file) return fail(std::string("cannot read: ") + std::strerror(errno));
  std::stringstream text;
  text << file.rdbuf();

  Config config;
  try {
    read_mapping(YAML::Load(text.str()), "", config);
    check_whole(config);
    load_app_services(path, config);
  } catch (const ConfigError& e) {
    return fail(e.what());
  } catch (const YAML::Exception& e) {
    std::string message = e.msg;
    std::replace(message.begin(), message.end(), '\n', ' ');
    if (e.mark.is_null()) return fail("invalid YAML: " + message);
    return fail("line " + std::to_string(e.mark.line + 1) + ", column " +
                std::to_string(e.mark.column + 1) + ": invalid YAML: " + message);
  }
  return config;
}

std::string generate_config(const std::string& server_name, const std::string& data_dir,
                            int client_port, int federation_port) {
  Config config;
  config.server_name = server_name;
  config.data_dir = data_dir;
  config.client_listener.port = client_port;
  config.federation_listener.port = federation_port;
  config.enable_registration = false;
  config.registration_shared_secret = crypto::random_token(32);

  std::ostringstream out;
  out << "# Haven homeserver configuration.\n"
         "# Every option is listed with a comment; an unknown key is an error at start-up.\n";
  std::vector<std::string> open;  // the sections the previous option sat in
  bool after_header = false;      // no blank line between a section's name and its first item
  for (const Option& option : options()) {
    std::vector<std::string> parts;
    for (size_t start = 0, dot = 0; dot != std::string::npos; start = dot + 1) {
      dot = option.key.find('.', start);
      parts.push_back(option.key.substr(start, dot == std::string::npos ? dot : dot - start));
    }
    const size_t depth = parts.size() - 1;
    size_t shared = 0;
    while (shared < depth && shared < open.size() && open[shared] == parts[shared]) ++shared;
    for (size_t level = shared; level < depth; ++level) {
      const std::string indent(level * 2, ' ');
      std::string key = parts[0];
      for (size_t i = 1; i <= level; ++i) key += "." + parts[i];
      const auto section = std::find_if(sections().begin(), sections().end(),
                                        [&](const Section& s) { return s.key == key; });
      if (!after_header) out << '\n';
      write_comment(out, indent, section->help);
      out << indent << parts[level] << ":\n";
      after_header = true;
    }
    open.assign(parts.begin(), parts.end() - 1);
    const std::string indent(depth * 2, ' ');
    if (!after_header) out << '\n';
    after_header = false;
    write_comment(out, indent, option.help);
    out << indent << parts.back() << ": " << option.write(config) << '\n';
  }
  return out.str();
}

}  // namespace haven::conf
