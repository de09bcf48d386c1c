#include "storage/keys.h"

namespace haven::storage {
namespace {

template <typename T>
void append_big_endian(std::string& out, T v) {
  for (int shift = (sizeof(T) - 1) * 8; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((v >> shift) & 0xFF));
  }
}

// Reads sizeof(T) big-endian bytes from the front of `rest`; leaves `rest` untouched if short.
template <typename T>
std::optional<T> take_big_endian(std::string_view& rest) {
  if (rest.size() < sizeof(T)) return std::nullopt;
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    v = static_cast<T>((v << 8) | static_cast<unsigned char>(rest[i]));
  }
  rest.remove_prefix(sizeof(T));
  return v;
}

}  // namespace

KeyBuilder& KeyBuilder::str(std::string_view s) {
  key_.append(s);
  key_.push_back('\0');
  return *this;
}

KeyBuilder& KeyBuilder::u64(uint64_t v) {
  append_big_endian(key_, v);
  return *this;
}

KeyBuilder& KeyBuilder::u32(uint32_t v) {
  append_big_endian(key_, v);
  return *this;
}

KeyBuilder& KeyBuilder::tail(std::string_view s) {
  key_.append(s);
  return *this;
}

std::optional<std::string_view> KeyReader::str() {
  auto end = rest_.find('\0');
  if (end == std::string_view::npos) return std::nullopt;
  auto part = rest_.substr(0, end);
  rest_.remove_prefix(end + 1);
  return part;
}

std::optional<uint64_t> KeyReader::u64() { return take_big_endian<uint64_t>(rest_); }

std::optional<uint32_t> KeyReader::u32() { return take_big_endian<uint32_t>(rest_); }

std::string encode_u64(uint64_t v) {
  std::string out;
  out.reserve(sizeof v);
  append_big_endian(out, v);
  return out;
}

std::optional<uint64_t> decode_u64(std::string_view bytes) {
  if (bytes.size() != sizeof(uint64_t)) return std::nullopt;
  return take_big_endian<uint64_t>(bytes);
}

}  // namespace haven::storage
