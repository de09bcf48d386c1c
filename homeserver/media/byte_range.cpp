#include "homeserver/media/byte_range.h"

#include <algorithm>
#include <charconv>

namespace haven::media {

std::optional<uint64_t> parse_decimal(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<ByteRange> parse_range(const std::optional<std::string>& header, uint64_t size) {
  if (!header) return std::nullopt;
  std::string_view v = *header;
  constexpr std::string_view kPrefix = "bytes=";
  if (!v.starts_with(kPrefix)) return std::nullopt;
  v.remove_prefix(kPrefix.size());
  auto dash = v.find('-');
  if (dash == std::string_view::npos || v.find(',') != std::string_view::npos) return std::nullopt;
  std::string_view first = v.substr(0, dash), last = v.substr(dash + 1);
  ByteRange r;
  if (first.empty()) {  // the last N bytes
    auto n = parse_decimal(last);
    if (!n) return std::nullopt;
    if (*n == 0 || size == 0) return ByteRange{true, 0, 0};
    r.length = std::min(*n, size);
    r.start = size - r.length;
    return r;
  }
  auto start = parse_decimal(first);
  if (!start) return std::nullopt;
  uint64_t end = size == 0 ? 0 : size - 1;
  if (!last.empty()) {
    auto e = parse_decimal(last);
    if (!e || *e < *start) return std::nullopt;
    end = std::min(end, *e);
  }
  if (*start >= size) return ByteRange{true, 0, 0};
  r.start = *start;
  r.length = end - *start + 1;
  return r;
}

}  // namespace haven::media
