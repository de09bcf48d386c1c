#include "crypto/olm_pickle.h"

namespace haven::crypto::olm {

PickleWriter::~PickleWriter() { wipe(out_); }

void PickleWriter::u32(uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out_ += static_cast<char>((value >> shift) & 0xFF);
}

std::optional<uint8_t> PickleReader::u8() {
  if (in_.empty()) return std::nullopt;
  const auto value = static_cast<uint8_t>(in_.front());
  in_.remove_prefix(1);
  return value;
}

std::optional<uint32_t> PickleReader::u32() {
  if (in_.size() < 4) {
    in_ = {};
    return std::nullopt;
  }
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value = (value << 8) | static_cast<unsigned char>(in_[i]);
  in_.remove_prefix(4);
  return value;
}

std::optional<std::string> PickleReader::bytes(size_t length) {
  if (in_.size() < length) {
    in_ = {};
    return std::nullopt;
  }
  std::string value(in_.substr(0, length));
  in_.remove_prefix(length);
  return value;
}

std::optional<SecretKey> PickleReader::key() {
  if (in_.size() < kKeyLength) {
    in_ = {};
    return std::nullopt;
  }
  auto value = SecretKey::from_bytes(in_.substr(0, kKeyLength));
  in_.remove_prefix(kKeyLength);
  return value;
}

}  // namespace haven::crypto::olm
