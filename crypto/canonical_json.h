// Canonical JSON per the Matrix spec appendix: keys sorted by code point, no insignificant
// whitespace, integers only in [-(2^53-1), 2^53-1], strings as UTF-8 with the minimal escapes.
// Pure functions; any thread.
#pragma once

#include <optional>
#include <string>

#include <rapidjson/document.h>

namespace haven::crypto {

constexpr int64_t kMaxSafeInteger = 9007199254740991;  // 2^53 - 1

// The canonical encoding of `value`, or nullopt with `error` set when the value holds a
// float or an integer out of range.
std::optional<std::string> canonical_json(const rapidjson::Value& value,
                                          std::string* error = nullptr);

}  // namespace haven::crypto
