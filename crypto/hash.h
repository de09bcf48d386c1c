// Hashes and MACs (libsodium / OpenSSL). Raw byte strings in and out. Any thread.
#pragma once

#include <string>
#include <string_view>

namespace haven::crypto {

std::string sha256(std::string_view data);                             // 32 raw bytes
std::string hmac_sha256(std::string_view key, std::string_view data);  // 32 raw bytes
std::string hmac_sha1(std::string_view key, std::string_view data);    // 20 raw bytes
std::string to_hex(std::string_view bytes);                            // lowercase
// Constant-time comparison of equal-length secrets; false when lengths differ.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace haven::crypto
