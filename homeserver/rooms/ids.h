// Matrix identifier grammar (appendices "Identifier Grammar"): user ids, room ids, aliases,
// event ids and server names. Pure functions over strings; any thread.
#pragma once

#include <string_view>

namespace haven::rooms {

constexpr size_t kMaxIdLength = 255;  // bytes, sigil and domain included

// hostname [":" port]; hostname is an IPv4 literal, "[" IPv6 "]" or a DNS name.
bool is_valid_server_name(std::string_view name);

// "@" localpart ":" server_name. The localpart follows the historical grammar every server
// must still accept: any valid UTF-8 except ':' and NUL, possibly empty.
bool is_valid_user_id(std::string_view id);
// The grammar for new user ids: non-empty, only a-z 0-9 . _ = - / +.
bool is_valid_user_localpart(std::string_view localpart);
// A user id whose localpart also meets the current grammar.
bool is_compliant_user_id(std::string_view id);

// "!" opaque ":" server_name (rooms v1-v11) or "!" + 43 url-safe base64 chars (v12+).
bool is_valid_room_id(std::string_view id);
// Only the hash form: "!" + 43 url-safe base64 characters.
bool is_hash_room_id(std::string_view id);
// "#" localpart ":" server_name, the localpart anything but ':' and NUL.
bool is_valid_room_alias(std::string_view alias);
// "$" + a non-empty opaque part without NUL (any version).
bool is_valid_event_id(std::string_view id);
// "$" + 43 url-safe base64 characters: the event id form of rooms v4+.
bool is_reference_hash_event_id(std::string_view id);

// The part after the first ':' ("" when there is none); for user ids, aliases and v1-11 room ids.
std::string_view server_name_of(std::string_view id);
// The part between the sigil and the first ':' ("" when malformed).
std::string_view localpart_of(std::string_view id);

// True when `s` is well-formed UTF-8 without surrogates or overlong forms.
bool is_valid_utf8(std::string_view s);

}  // namespace haven::rooms
