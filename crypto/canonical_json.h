// Canonical JSON per the Matrix spec appendix: keys sorted by code point, no insignificant
// whitespace, integers only in [-(2^53-1), 2^53-1], strings as UTF-8 with the minimal escapes.
// Pure functions; any thread.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace haven::crypto {

constexpr int64_t kMaxSafeInteger = 9007199254740991;  // 2^53 - 1

// Objects and arrays nested deeper than this are refused (the writer recurses).
constexpr int kMaxCanonicalJsonDepth = 128;

// The canonical encoding of `value`, or nullopt with `error` set when the value holds a
// float or an integer out of range. Also refused: strings that are not valid UTF-8, objects
// with duplicate keys, and nesting deeper than kMaxCanonicalJsonDepth, since no two
// implementations would agree on their encoding.
std::optional<std::string> canonical_json(const rapidjson::Value& value,
                                          std::string* error = nullptr);

// As canonical_json for an object, leaving out the named top-level members (as signing and
// hashing do with "signatures", "unsigned", "hashes") without copying the object. nullopt with
// `error` set when `object` is not an object or is not canonicalisable.
std::optional<std::string> canonical_json_excluding(const rapidjson::Value& object,
                                                    std::initializer_list<std::string_view> omit,
                                                    std::string* error = nullptr);

}  // namespace haven::crypto
