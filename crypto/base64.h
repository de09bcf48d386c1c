// Unpadded base64 as Matrix uses it: standard alphabet for keys, hashes and signatures;
// URL-safe alphabet for event ids (room v4+) and media ids. Pure functions; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace haven::crypto {

std::string base64_encode(std::string_view bytes);          // standard, unpadded
std::string base64_encode_urlsafe(std::string_view bytes);  // '-' '_' alphabet, unpadded
// Decodes either alphabet, with or without padding; nullopt on any invalid character.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace haven::crypto
