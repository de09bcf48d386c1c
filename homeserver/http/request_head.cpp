#include "homeserver/http/request_head.h"

#include <algorithm>
#include <cctype>

namespace haven::http {

namespace {

Error malformed(std::string why) { return Error::with(400, "M_UNKNOWN", std::move(why)); }

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// RFC 9110 token characters: what a method or a field name may consist of.
bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Whether a comma-separated field value (Connection) lists `option`.
bool lists_option(std::string_view value, std::string_view option) {
  while (!value.empty()) {
    auto comma = value.find(',');
    if (equals_ignoring_case(trim(value.substr(0, comma)), option)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

std::optional<uint64_t> parse_length(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

Status parse_request_line(std::string_view line, RequestHead& head) {
  auto sp1 = line.find(' ');
  auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return malformed("Malformed request line");
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method)) return malformed("Malformed request method");
  // Origin form only ("/path?query"), or "*" for OPTIONS: this is not a proxy.
  bool asterisk = target == "*" && method == "OPTIONS";
  if (!asterisk && (target.empty() || target.front() != '/')) {
    return malformed("Malformed request target");
  }
  for (char c : target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return malformed("Malformed request target");
    }
  }
  if (version == "HTTP/1.1") {
    head.minor_version = 1;
  } else if (version == "HTTP/1.0") {
    head.minor_version = 0;
  } else if (version.substr(0, 5) == "HTTP/") {
    return Error::with(505, "M_UNKNOWN", "Only HTTP/1.0 and HTTP/1.1 are served");
  } else {
    return malformed("Malformed HTTP version");
  }
  head.method = std::string(method);
  head.target = std::string(target);
  return {};
}

Status parse_field(std::string_view line, RequestHead& head) {
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return malformed("Malformed header field");
  // No whitespace before the colon, no obsolete line folding (RFC 9112 5.1, 5.2).
  std::string_view name = line.substr(0, colon);
  if (!is_token(name)) return malformed("Malformed header field name");
  std::string_view value = trim(line.substr(colon + 1));
  for (char c : value) {
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
      return malformed("Malformed header field value");
    }
  }
  head.headers.emplace_back(std::string(name), std::string(value));
  return {};
}

// Content-Length, Transfer-Encoding and Connection decide where the body ends and whether
// another request may follow. Anything ambiguous is refused: two servers reading one message
// differently is how requests get smuggled.
Status frame_body(RequestHead& head) {
  std::optional<uint64_t> length;
  bool has_transfer_encoding = false;
  for (const auto& [name, value] : head.headers) {
    if (equals_ignoring_case(name, "Content-Length")) {
      auto n = parse_length(value);
      if (!n) return malformed("Malformed Content-Length");
      if (length && *length != *n) return malformed("Conflicting Content-Length fields");
      length = n;
    } else if (equals_ignoring_case(name, "Transfer-Encoding")) {
      if (has_transfer_encoding || !equals_ignoring_case(value, "chunked")) {
        return Error::with(501, "M_UNKNOWN", "Only the chunked transfer coding is supported");
      }
      has_transfer_encoding = true;
    } else if (equals_ignoring_case(name, "Connection")) {
      if (lists_option(value, "close")) head.keep_alive = false;
      if (head.minor_version == 0 && lists_option(value, "keep-alive")) head.keep_alive = true;
    } else if (equals_ignoring_case(name, "Expect")) {
      if (!equals_ignoring_case(value, "100-continue")) {
        return Error::with(417, "M_UNKNOWN", "Only Expect: 100-continue is supported");
      }
      head.expect_continue = head.minor_version >= 1;
    }
  }
  if (has_transfer_encoding && length) {
    return malformed("Both Content-Length and Transfer-Encoding");
  }
  if (has_transfer_encoding && head.minor_version == 0) {
    return malformed("Transfer-Encoding in an HTTP/1.0 request");
  }
  head.chunked = has_transfer_encoding;
  head.content_length = length.value_or(0);
  return {};
}

}  // namespace

std::optional<std::string> RequestHead::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (equals_ignoring_case(k, name)) return v;
  }
  return std::nullopt;
}

size_t request_head_length(std::string_view bytes) {
  auto end = bytes.find("\r\n\r\n");
  return end == std::string_view::npos ? 0 : end + 4;
}

Result<RequestHead> parse_request_head(std::string_view head) {
  RequestHead out;
  // HTTP/1.1 servers should ignore empty lines before the request line (RFC 9112 2.2).
  while (head.substr(0, 2) == "\r\n") head.remove_prefix(2);
  if (head.size() >= 4 && head.substr(head.size() - 4) == "\r\n\r\n") {
    head.remove_suffix(2);
  }
  bool first = true;
  while (!head.empty()) {
    auto eol = head.find("\r\n");
    if (eol == std::string_view::npos) return malformed("Malformed request head");
    std::string_view line = head.substr(0, eol);
    head.remove_prefix(eol + 2);
    if (line.find('\r') != std::string_view::npos || line.find('\n') != std::string_view::npos ||
        line.find('\0') != std::string_view::npos) {
      return malformed("Stray control character in the request head");
    }
    Status s = first ? parse_request_line(line, out) : parse_field(line, out);
    if (!s.ok()) return s.error();
    first = false;
  }
  if (first) return malformed("Empty request");
  if (out.minor_version == 0) out.keep_alive = false;
  Status framed = frame_body(out);
  if (!framed.ok()) return framed.error();
  return out;
}

}  // namespace haven::http
