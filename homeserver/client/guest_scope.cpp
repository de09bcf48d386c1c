#include "homeserver/client/guest_scope.h"

#include <set>
#include <string>
#include <vector>

#include "homeserver/http/router.h"

namespace haven::client {

namespace {

std::vector<std::string> decoded_segments(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) {
      auto d = http::percent_decode(path.substr(i, j - i));
      out.push_back(d ? *d : std::string());
    }
    i = j + 1;
  }
  return out;
}

// Endpoints with nothing of other users or rooms in them.
const std::set<std::string, std::less<>> kOwnAccountAreas = {
    "sync",   "logout", "capabilities", "pushrules", "keys",     "sendToDevice",
    "voip",   "devices", "delete_devices", "room_keys"};

bool client_path_allowed(const std::vector<std::string>& s, std::string_view user_id,
                         std::string_view room_id) {
  // s[0] "_matrix", s[1] "client", s[2] version, s[3] area
  if (s.size() < 4) return false;
  const std::string& area = s[3];
  if (kOwnAccountAreas.count(area)) return true;
  if (area == "account") return s.size() == 5 && s[4] == "whoami";
  if (area == "rooms" || area == "join" || area == "knock") return s.size() >= 5 && s[4] == room_id;
  if (area == "user" || area == "profile" || area == "presence") {
    if (s.size() < 5 || s[4] != user_id) return false;
    // Room account data and tags only for their own room.
    if (s.size() >= 7 && s[5] == "rooms") return s[6] == room_id;
    return true;
  }
  if (area == "media") return true;  // /_matrix/client/v1/media (authenticated media)
  return false;
}

}  // namespace

bool guest_may_request(std::string_view path, std::string_view user_id, std::string_view room_id) {
  auto s = decoded_segments(path);
  if (s.size() < 2 || s[0] != "_matrix") return false;
  if (s[1] == "media") return true;
  if (s[1] == "client") return client_path_allowed(s, user_id, room_id);
  return false;
}

}  // namespace haven::client
