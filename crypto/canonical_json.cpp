#include "crypto/canonical_json.h"

#include <algorithm>
#include <charconv>
#include <utility>
#include <vector>

namespace haven::crypto {
namespace {

// Checks well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing past
// U+10FFFF. Canonical JSON passes strings through byte for byte, so bytes that are not UTF-8
// would make a signature no other server could reproduce.
bool is_valid_utf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t extra = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // UTF-16 surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // beyond U+10FFFF
    } else {
      return false;
    }
    if (n - i <= extra) return false;
    const auto second = static_cast<unsigned char>(s[i + 1]);
    if (second < lo || second > hi) return false;
    for (size_t k = 2; k <= extra; ++k) {
      const auto cont = static_cast<unsigned char>(s[i + k]);
      if (cont < 0x80 || cont > 0xBF) return false;
    }
    i += extra + 1;
  }
  return true;
}

class CanonicalWriter {
 public:
  bool write_value(const rapidjson::Value& value, int depth) {
    switch (value.GetType()) {
      case rapidjson::kNullType:
        out_ += "null";
        return true;
      case rapidjson::kFalseType:
        out_ += "false";
        return true;
      case rapidjson::kTrueType:
        out_ += "true";
        return true;
      case rapidjson::kStringType:
        return write_string(std::string_view(value.GetString(), value.GetStringLength()));
      case rapidjson::kNumberType:
        return write_number(value);
      case rapidjson::kArrayType:
        return write_array(value, depth);
      case rapidjson::kObjectType:
        return write_object(value, depth, {});
    }
    return fail("unknown JSON value type");
  }

  bool write_object(const rapidjson::Value& object, int depth,
                    std::initializer_list<std::string_view> omit) {
    if (depth >= kMaxCanonicalJsonDepth) return fail("JSON nested too deeply");
    std::vector<std::pair<std::string_view, const rapidjson::Value*>> members;
    members.reserve(object.MemberCount());
    for (const auto& m : object.GetObject()) {
      std::string_view name(m.name.GetString(), m.name.GetStringLength());
      if (std::find(omit.begin(), omit.end(), name) != omit.end()) continue;
      members.emplace_back(name, &m.value);
    }
    // Byte order of UTF-8 is code point order; char_traits<char> compares as unsigned char.
    std::sort(members.begin(), members.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    out_ += '{';
    for (size_t i = 0; i < members.size(); ++i) {
      if (i > 0) {
        if (members[i].first == members[i - 1].first) {
          return fail("duplicate object key \"" + std::string(members[i].first) + "\"");
        }
        out_ += ',';
      }
      if (!write_string(members[i].first)) return false;
      out_ += ':';
      if (!write_value(*members[i].second, depth + 1)) return false;
    }
    out_ += '}';
    return true;
  }

  std::string take_output() { return std::move(out_); }
  const std::string& error() const { return error_; }

 private:
  bool fail(std::string message) {
    error_ = std::move(message);
    return false;
  }

  bool write_array(const rapidjson::Value& array, int depth) {
    if (depth >= kMaxCanonicalJsonDepth) return fail("JSON nested too deeply");
    out_ += '[';
    bool first = true;
    for (const auto& element : array.GetArray()) {
      if (!first) out_ += ',';
      first = false;
      if (!write_value(element, depth + 1)) return false;
    }
    out_ += ']';
    return true;
  }

  bool write_number(const rapidjson::Value& value) {
    // rapidjson flags a number written as 1.0 or 1e10 as a double, never as an integer.
    if (value.IsDouble()) return fail("floats are not allowed in canonical JSON");
    if (!value.IsInt64()) return fail("integer out of range for canonical JSON");  // > int64
    const int64_t n = value.GetInt64();
    if (n > kMaxSafeInteger || n < -kMaxSafeInteger) {
      return fail("integer out of range for canonical JSON");
    }
    char buf[24];
    const auto result = std::to_chars(buf, buf + sizeof buf, n);
    out_.append(buf, result.ptr);
    return true;
  }

  bool write_string(std::string_view s) {
    if (!is_valid_utf8(s)) return fail("string is not valid UTF-8");
    static constexpr char kHex[] = "0123456789abcdef";
    out_ += '"';
    for (const char ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      switch (c) {
        case '"':
          out_ += "\\\"";
          break;
        case '\\':
          out_ += "\\\\";
          break;
        case '\b':
          out_ += "\\b";
          break;
        case '\f':
          out_ += "\\f";
          break;
        case '\n':
          out_ += "\\n";
          break;
        case '\r':
          out_ += "\\r";
          break;
        case '\t':
          out_ += "\\t";
          break;
        default:
          if (c < 0x20) {
            out_ += "\\u00";
            out_ += kHex[c >> 4];
            out_ += kHex[c & 0xF];
          } else {
            out_ += ch;
          }
      }
    }
    out_ += '"';
    return true;
  }

  std::string out_;
  std::string error_;
};

std::optional<std::string> finish(CanonicalWriter& writer, bool ok, std::string* error) {
  if (!ok) {
    if (error) *error = writer.error();
    return std::nullopt;
  }
  return writer.take_output();
}

}  // namespace

std::optional<std::string> canonical_json(const rapidjson::Value& value, std::string* error) {
  CanonicalWriter writer;
  const bool ok = writer.write_value(value, 0);
  return finish(writer, ok, error);
}

std::optional<std::string> canonical_json_excluding(const rapidjson::Value& object,
                                                    std::initializer_list<std::string_view> omit,
                                                    std::string* error) {
  if (!object.IsObject()) {
    if (error) *error = "not a JSON object";
    return std::nullopt;
  }
  CanonicalWriter writer;
  const bool ok = writer.write_object(object, 0, omit);
  return finish(writer, ok, error);
}

}  // namespace haven::crypto
