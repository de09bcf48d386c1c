// Application service registration files: the spec's Registration object in YAML, plus the
// unstable flags bridges write (MSC2409 ephemeral data, MSC3202, MSC4190). Unknown keys are
// ignored, as other homeservers do, because bridges add their own.

#include "conf/appservice_registration.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

namespace haven::conf {
namespace {

class RegistrationError : public std::runtime_error {
 public:
  RegistrationError(const std::string& key, const std::string& problem)
      : std::runtime_error(key + ": " + problem) {}
};

constexpr size_t kMaxTokenBytes = 1024;
constexpr size_t kMaxRegexBytes = 1024;
constexpr size_t kMaxNamespaces = 100;

std::string kind_of(const YAML::Node& node) {
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  if (node.IsNull()) return "an empty value";
  return "'" + node.Scalar().substr(0, 40) + "'";
}

// root[name] as a non-empty string; `shown_key` names it in errors (default: name).
std::string required_string(const YAML::Node& root, const std::string& name,
                            std::string shown_key = "") {
  if (shown_key.empty()) shown_key = name;
  const YAML::Node node = root[name];
  if (!node) throw RegistrationError(shown_key, "is required");
  if (!node.IsScalar()) {
    throw RegistrationError(shown_key, "expected a string, got " + kind_of(node));
  }
  if (node.Scalar().empty()) throw RegistrationError(shown_key, "must not be empty");
  return node.Scalar();
}

bool read_bool(const YAML::Node& node, const std::string& key) {
  std::string text = node.IsScalar() ? node.Scalar() : "";
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (text == "true" || text == "yes" || text == "on") return true;
  if (text == "false" || text == "no" || text == "off") return false;
  throw RegistrationError(key, "expected true or false, got " + kind_of(node));
}

bool optional_bool(const YAML::Node& root, const std::string& key, bool fallback) {
  const YAML::Node node = root[key];
  if (!node || node.IsNull()) return fallback;
  return read_bool(node, key);
}

std::string check_token(const std::string& value, const std::string& key) {
  if (value.size() > kMaxTokenBytes) throw RegistrationError(key, "is too long");
  for (char c : value) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      throw RegistrationError(key, "must not contain spaces or control characters");
    }
  }
  return value;
}

bool localpart_char_ok(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '=' ||
         c == '-' || c == '/' || c == '+';
}

std::vector<AppServiceNamespace> read_namespaces(const YAML::Node& namespaces,
                                                 const std::string& kind) {
  const std::string key = "namespaces." + kind;
  const YAML::Node list = namespaces[kind];
  if (!list || list.IsNull()) return {};
  if (!list.IsSequence()) throw RegistrationError(key, "expected a list, got " + kind_of(list));
  if (list.size() > kMaxNamespaces) throw RegistrationError(key, "has too many entries");
  std::vector<AppServiceNamespace> out;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string item_key = key + "[" + std::to_string(i) + "]";
    const YAML::Node item = list[i];
    if (!item.IsMap()) {
      throw RegistrationError(item_key, "expected a mapping with regex and exclusive, got " +
                                            kind_of(item));
    }
    AppServiceNamespace ns;
    ns.regex = required_string(item, "regex", item_key + ".regex");
    if (ns.regex.size() > kMaxRegexBytes) {
      throw RegistrationError(item_key + ".regex", "is too long");
    }
    try {
      std::regex compiled(ns.regex, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw RegistrationError(item_key + ".regex",
                              "invalid regular expression '" + ns.regex + "': " + e.what());
    }
    if (!item["exclusive"]) throw RegistrationError(item_key + ".exclusive", "is required");
    ns.exclusive = read_bool(item["exclusive"], item_key + ".exclusive");
    out.push_back(std::move(ns));
  }
  return out;
}

AppServiceRegistration parse(const YAML::Node& root) {
  if (!root.IsMap()) {
    throw RegistrationError("top level", "expected a mapping, got " + kind_of(root));
  }
  AppServiceRegistration r;
  r.id = required_string(root, "id");
  const YAML::Node url = root["url"];
  if (!url) throw RegistrationError("url", "is required (null when the service wants no traffic)");
  if (!url.IsNull()) {
    if (!url.IsScalar()) throw RegistrationError("url", "expected a URL, got " + kind_of(url));
    r.url = url.Scalar();
    if (!r.url.starts_with("http://") && !r.url.starts_with("https://")) {
      throw RegistrationError("url", "expected an http:// or https:// URL, got '" + r.url + "'");
    }
    while (r.url.ends_with('/')) r.url.pop_back();
  }
  r.as_token = check_token(required_string(root, "as_token"), "as_token");
  r.hs_token = check_token(required_string(root, "hs_token"), "hs_token");
  r.sender_localpart = required_string(root, "sender_localpart");
  if (!std::all_of(r.sender_localpart.begin(), r.sender_localpart.end(), localpart_char_ok)) {
    throw RegistrationError("sender_localpart",
                            "may only contain a-z, 0-9 and '=_-./+', got '" +
                                r.sender_localpart + "'");
  }
  const YAML::Node namespaces = root["namespaces"];
  if (!namespaces) throw RegistrationError("namespaces", "is required");
  if (!namespaces.IsNull()) {
    if (!namespaces.IsMap()) {
      throw RegistrationError("namespaces", "expected a mapping, got " + kind_of(namespaces));
    }
    r.users = read_namespaces(namespaces, "users");
    r.aliases = read_namespaces(namespaces, "aliases");
    r.rooms = read_namespaces(namespaces, "rooms");
  }
  r.rate_limited = optional_bool(root, "rate_limited", true);
  r.receive_ephemeral = optional_bool(root, "receive_ephemeral", false) ||
                        optional_bool(root, "de.sorunome.msc2409.push_ephemeral", false) ||
                        optional_bool(root, "push_ephemeral", false);
  r.msc3202 = optional_bool(root, "org.matrix.msc3202", false);
  r.msc4190 = optional_bool(root, "io.element.msc4190", false);
  r.operator_api = optional_bool(root, "org.haven.operator", false);
  if (const YAML::Node protocols = root["protocols"]; protocols && !protocols.IsNull()) {
    if (!protocols.IsSequence()) {
      throw RegistrationError("protocols", "expected a list of strings, got " + kind_of(protocols));
    }
    for (const auto& p : protocols) {
      if (!p.IsScalar()) throw RegistrationError("protocols", "expected a list of strings");
      r.protocols.push_back(p.Scalar());
    }
  }
  return r;
}

}  // namespace

std::optional<AppServiceRegistration> load_appservice_registration(const std::string& path,
                                                                   std::string* error) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    *error = "cannot read: is a directory";
    return std::nullopt;
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    *error = std::string("cannot read: ") + std::strerror(errno);
    return std::nullopt;
  }
  std::stringstream text;
  text << file.rdbuf();
  try {
    AppServiceRegistration r = parse(YAML::Load(text.str()));
    r.file = path;
    return r;
  } catch (const RegistrationError& e) {
    *error = e.what();
  } catch (const YAML::Exception& e) {
    std::string message = e.msg;
    std::replace(message.begin(), message.end(), '\n', ' ');
    *error = e.mark.is_null() ? "invalid YAML: " + message
                              : "line " + std::to_string(e.mark.line + 1) + ", column " +
                                    std::to_string(e.mark.column + 1) + ": invalid YAML: " +
                                    message;
  }
  return std::nullopt;
}

std::string check_appservice_registrations(const std::vector<AppServiceRegistration>& all) {
  for (size_t i = 0; i < all.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      const std::string both = all[j].file + " and " + all[i].file;
      if (all[i].id == all[j].id) return both + " have the same id '" + all[i].id + "'";
      if (all[i].as_token == all[j].as_token) return both + " have the same as_token";
      if (all[i].as_token == all[j].hs_token || all[i].hs_token == all[j].as_token) {
        return both + " share a token between as_token and hs_token";
      }
    }
    if (all[i].as_token == all[i].hs_token) {
      return all[i].file + ": as_token and hs_token must differ";
    }
  }
  return "";
}

}  // namespace haven::conf
