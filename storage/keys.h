// Key encoding for every LMDB table: the one place that turns typed keys into bytes and back.
// Integers are big-endian (so byte order is numeric order); strings are joined with '\0'
// (Matrix identifiers cannot contain it). Pure functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace haven::storage {

// Builds a key from parts: KeyBuilder().str(room_id).u64(pos).build().
class KeyBuilder {
 public:
  KeyBuilder& str(std::string_view s);  // appends s followed by '\0'
  KeyBuilder& u64(uint64_t v);           // 8 bytes big-endian
  KeyBuilder& u32(uint32_t v);           // 4 bytes big-endian
  // Appends s with no terminator: for a final string part or a prefix to scan.
  KeyBuilder& tail(std::string_view s);
  const std::string& build() const { return key_; }
  std::string take() { return std::move(key_); }

 private:
  std::string key_;
};

// Reads a key back in the order it was built; any read past the end yields nullopt.
class KeyReader {
 public:
  explicit KeyReader(std::string_view key) : rest_(key) {}
  std::optional<std::string_view> str();
  std::optional<uint64_t> u64();
  std::optional<uint32_t> u32();
  std::string_view tail() { auto r = rest_; rest_ = {}; return r; }
  bool done() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

// Fixed-width big-endian encodings for values that are just a number.
std::string encode_u64(uint64_t v);
std::optional<uint64_t> decode_u64(std::string_view bytes);

}  // namespace haven::storage
