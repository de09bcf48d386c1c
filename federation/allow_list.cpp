#include "federation/allow_list.h"

#include <algorithm>
#include <cctype>

namespace haven::federation {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The host part of a server name: "[::1]" of "[::1]:80", "a.org" of "a.org:80".
std::string_view host_of(std::string_view server_name) {
  if (!server_name.empty() && server_name.front() == '[') {
    return server_name.substr(0, server_name.find(']') + 1);
  }
  return server_name.substr(0, server_name.find(':'));
}

}  // namespace

ServerAllowList::ServerAllowList(std::vector<std::string> patterns) {
  for (const std::string& pattern : patterns) {
    if (pattern == "*") {
      everyone_ = true;
    } else if (pattern.starts_with("*.")) {
      suffixes_.push_back(lower(pattern.substr(1)));
    } else {
      exact_.push_back(lower(pattern));
    }
  }
}

bool ServerAllowList::allows(std::string_view server_name) const {
  if (server_name.empty()) return false;
  if (everyone_) return true;
  const std::string name = lower(server_name);
  if (std::find(exact_.begin(), exact_.end(), name) != exact_.end()) return true;
  const std::string_view host = host_of(name);
  return std::any_of(suffixes_.begin(), suffixes_.end(), [&](const std::string& suffix) {
    return host.size() > suffix.size() && host.ends_with(suffix);
  });
}

}  // namespace haven::federation
