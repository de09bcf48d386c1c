#include "homeserver/rooms/ids.h"

#include <algorithm>
#include <cstdint>

namespace haven::rooms {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_urlsafe_b64(char c) { return is_digit(c) || is_alpha(c) || c == '-' || c == '_'; }

bool is_port(std::string_view p) {
  return !p.empty() && p.size() <= 5 && std::all_of(p.begin(), p.end(), is_digit);
}

bool is_dns_name(std::string_view h) {
  if (h.empty() || h.size() > 255) return false;
  return std::all_of(h.begin(), h.end(),
                     [](char c) { return is_digit(c) || is_alpha(c) || c == '-' || c == '.'; });
}

bool is_ipv6_literal(std::string_view h) {  // without the brackets
  if (h.size() < 2 || h.size() > 45) return false;
  return std::all_of(h.begin(), h.end(), [](char c) { return is_hex(c) || c == ':' || c == '.'; });
}

// A localpart that may hold anything but ':' and NUL, as valid UTF-8.
bool is_opaque_localpart(std::string_view s) {
  return s.find(':') == std::string_view::npos && s.find('\0') == std::string_view::npos &&
         is_valid_utf8(s);
}

// sigil localpart ":" server_name with the length limit.
bool is_sigil_local_server(std::string_view id, char sigil) {
  if (id.size() < 3 || id.size() > kMaxIdLength || id[0] != sigil) return false;
  size_t colon = id.find(':');
  if (colon == std::string_view::npos) return false;
  return is_opaque_localpart(id.substr(1, colon - 1)) && is_valid_server_name(id.substr(colon + 1));
}

bool is_sigil_hash(std::string_view id, char sigil) {
  return id.size() == 44 && id[0] == sigil && std::all_of(id.begin() + 1, id.end(), is_urlsafe_b64);
}

// Length of the UTF-8 sequence starting with `lead`, 0 when invalid as a lead byte.
int utf8_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto lead = static_cast<unsigned char>(s[i]);
    int n = utf8_length(lead);
    if (n == 0 || i + n > s.size()) return false;
    uint32_t cp = n == 1 ? lead : lead & (0x7F >> n);
    for (int k = 1; k < n; ++k) {
      auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return false;
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;
    i += n;
  }
  return true;
}

bool is_valid_server_name(std::string_view name) {
  std::string_view host = name;
  std::string_view rest;
  if (!name.empty() && name[0] == '[') {
    size_t close = name.find(']');
    if (close == std::string_view::npos || !is_ipv6_literal(name.substr(1, close - 1))) {
      return false;
    }
    rest = name.substr(close + 1);
  } else {
    size_t colon = name.find(':');
    host = name.substr(0, colon);
    if (!is_dns_name(host)) return false;
    rest = colon == std::string_view::npos ? std::string_view{} : name.substr(colon);
  }
  if (rest.empty()) return true;
  return rest[0] == ':' && is_port(rest.substr(1));
}

bool is_valid_user_id(std::string_view id) {
  if (id.size() < 2 || id.size() > kMaxIdLength || id[0] != '@') return false;
  size_t colon = id.find(':');
  if (colon == std::string_view::npos) return false;
  return is_opaque_localpart(id.substr(1, colon - 1)) && is_valid_server_name(id.substr(colon + 1));
}

bool is_valid_user_localpart(std::string_view localpart) {
  if (localpart.empty()) return false;
  return std::all_of(localpart.begin(), localpart.end(), [](char c) {
    return is_digit(c) || (c >= 'a' && c <= 'z') || c == '.' || c == '_' || c == '=' || c == '-' ||
           c == '/' || c == '+';
  });
}

bool is_compliant_user_id(std::string_view id) {
  return is_valid_user_id(id) && is_valid_user_localpart(localpart_of(id));
}

bool is_valid_room_id(std::string_view id) {
  return is_hash_room_id(id) || is_sigil_local_server(id, '!');
}

bool is_hash_room_id(std::string_view id) { return is_sigil_hash(id, '!'); }

bool is_valid_room_alias(std::string_view alias) { return is_sigil_local_server(alias, '#'); }

bool is_valid_event_id(std::string_view id) {
  return id.size() >= 2 && id.size() <= kMaxIdLength && id[0] == '$' &&
         id.find('\0') == std::string_view::npos && is_valid_utf8(id);
}

bool is_reference_hash_event_id(std::string_view id) { return is_sigil_hash(id, '$'); }

std::string_view server_name_of(std::string_view id) {
  size_t colon = id.find(':');
  return colon == std::string_view::npos ? std::string_view{} : id.substr(colon + 1);
}

std::string_view localpart_of(std::string_view id) {
  size_t colon = id.find(':');
  if (id.empty() || colon == std::string_view::npos) return {};
  return id.substr(1, colon - 1);
}

}  // namespace haven::rooms
