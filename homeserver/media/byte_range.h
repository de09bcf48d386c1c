// Range headers of media downloads (RFC 9110 section 14), as pure functions. Any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace haven::media {

// What a Range header asks of a file of a known size.
struct ByteRange {
  bool unsatisfiable = false;  // answer 416 with Content-Range: bytes */size
  uint64_t start = 0;
  uint64_t length = 0;
};

// A decimal of at most 18 digits (no sign, no spaces), or nullopt.
std::optional<uint64_t> parse_decimal(std::string_view s);

// One "bytes=first-last", "bytes=first-" or "bytes=-suffix" range of a file of `size` bytes,
// clamped to the file. Nullopt (send the whole file, 200) for no header, another unit, several
// ranges or anything malformed, as RFC 9110 allows; `unsatisfiable` when the range starts at
// or past the end, or asks for the last 0 bytes.
std::optional<ByteRange> parse_range(const std::optional<std::string>& header, uint64_t size);

}  // namespace haven::media
