#include "federation/x_matrix.h"

#include <cctype>

#include "crypto/base64.h"
#include "crypto/canonical_json.h"

namespace haven::federation {
namespace {

constexpr std::string_view kScheme = "X-Matrix";

// tchar of RFC 9110 section 5.6.2.
bool is_tchar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Reads the parameter list after the scheme into `auth`; false on a grammar error.
class ParamReader {
 public:
  explicit ParamReader(std::string_view text) : s_(text) {}

  bool read_all(XMatrixAuth& auth) {
    bool seen_origin = false, seen_destination = false, seen_key = false, seen_sig = false;
    skip_space();
    if (at_end()) return false;
    while (true) {
      std::string name, value;
      if (!read_param(name, value)) return false;
      auto take = [&](bool& seen, std::string& field) {
        if (seen) return false;
        seen = true;
        field = std::move(value);
        return true;
      };
      if (name == "origin" && !take(seen_origin, auth.origin)) return false;
      if (name == "destination" && !take(seen_destination, auth.destination)) return false;
      if (name == "key" && !take(seen_key, auth.key)) return false;
      if (name == "sig" && !take(seen_sig, auth.sig)) return false;
      skip_space();
      if (at_end()) break;
      if (s_[i_] != ',') return false;
      ++i_;
      skip_space();
      if (at_end()) return false;  // a trailing comma
    }
    return seen_origin && seen_key && seen_sig && !auth.origin.empty() && !auth.key.empty() &&
           !auth.sig.empty();
  }

 private:
  bool at_end() const { return i_ >= s_.size(); }
  void skip_space() {
    while (!at_end() && is_space(s_[i_])) ++i_;
  }

  bool read_param(std::string& name, std::string& value) {
    const size_t start = i_;
    while (!at_end() && is_tchar(s_[i_])) ++i_;
    if (i_ == start || at_end() || s_[i_] != '=') return false;
    name = lower(s_.substr(start, i_ - start));
    ++i_;
    if (!at_end() && s_[i_] == '"') return read_quoted(value);
    const size_t value_start = i_;
    while (!at_end() && (is_tchar(s_[i_]) || s_[i_] == ':')) ++i_;
    if (i_ == value_start) return false;
    value.assign(s_.substr(value_start, i_ - value_start));
    return true;
  }

  // quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
  bool read_quoted(std::string& value) {
    ++i_;  // the opening quote
    while (!at_end()) {
      const char c = s_[i_++];
      if (c == '"') return true;
      if (c == '\\') {
        if (at_end()) return false;
        value += s_[i_++];
      } else if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
        return false;
      } else if (c == 0x7f) {
        return false;
      } else {
        value += c;
      }
    }
    return false;  // no closing quote
  }

  std::string_view s_;
  size_t i_ = 0;
};

// A value written as a quoted-string, escaping what must be escaped.
std::string quoted(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

rapidjson::Value string_value(std::string_view s, rapidjson::Document::AllocatorType& alloc) {
  return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), alloc);
}

}  // namespace

std::optional<XMatrixAuth> parse_x_matrix(std::string_view header) {
  while (!header.empty() && is_space(header.front())) header.remove_prefix(1);
  if (header.size() <= kScheme.size() || lower(header.substr(0, kScheme.size())) != "x-matrix" ||
      header[kScheme.size()] != ' ') {
    return std::nullopt;
  }
  XMatrixAuth auth;
  if (!ParamReader(header.substr(kScheme.size())).read_all(auth)) return std::nullopt;
  return auth;
}

std::string format_x_matrix(const XMatrixAuth& auth) {
  std::string out = std::string(kScheme) + " origin=" + quoted(auth.origin);
  if (!auth.destination.empty()) out += ",destination=" + quoted(auth.destination);
  return out + ",key=" + quoted(auth.key) + ",sig=" + quoted(auth.sig);
}

std::optional<std::string> request_signing_text(std::string_view method, std::string_view uri,
                                                std::string_view origin,
                                                std::string_view destination,
                                                const rapidjson::Value* content) {
  rapidjson::Document object(rapidjson::kObjectType);
  auto& alloc = object.GetAllocator();
  object.AddMember("method", string_value(method, alloc), alloc);
  object.AddMember("uri", string_value(uri, alloc), alloc);
  object.AddMember("origin", string_value(origin, alloc), alloc);
  object.AddMember("destination", string_value(destination, alloc), alloc);
  if (content != nullptr) object.AddMember("content", rapidjson::Value(*content, alloc), alloc);
  return crypto::canonical_json(object);
}

std::optional<std::string> sign_request(const crypto::SigningKey& key, std::string_view origin,
                                        std::string_view destination, std::string_view method,
                                        std::string_view uri, const rapidjson::Value* content) {
  auto text = request_signing_text(method, uri, origin, destination, content);
  if (!text) return std::nullopt;
  XMatrixAuth auth{std::string(origin), std::string(destination), key.key_id(),
                   crypto::base64_encode(key.sign(*text))};
  return format_x_matrix(auth);
}

bool verify_request(const XMatrixAuth& auth, std::string_view public_key,
                    std::string_view destination, std::string_view method, std::string_view uri,
                    const rapidjson::Value* content) {
  if (!auth.key.starts_with("ed25519:")) return false;
  auto signature = crypto::base64_decode(auth.sig);
  if (!signature || signature->size() != 64) return false;
  auto text = request_signing_text(method, uri, auth.origin, destination, content);
  if (!text) return false;
  return crypto::ed25519_verify(public_key, *text, *signature);
}

}  // namespace haven::federation
