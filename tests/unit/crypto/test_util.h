// Helpers shared by the crypto unit tests. Test thread only.
#pragma once

#include <rapidjson/document.h>

#include <boost/test/unit_test.hpp>
#include <string>
#include <string_view>

namespace haven::crypto::test {

// Parses `text`, failing the test when it is not JSON.
inline rapidjson::Document parse_json(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  BOOST_REQUIRE_MESSAGE(!doc.HasParseError(), "test JSON does not parse: " << text);
  return doc;
}

inline std::string from_hex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    return c - 'a' + 10;
  };
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1]));
  }
  return out;
}

}  // namespace haven::crypto::test
