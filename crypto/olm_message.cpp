#include "crypto/olm_message.h"

#include <functional>

#include "crypto/olm_primitives.h"

namespace haven::crypto::olm {
namespace {

constexpr unsigned char kVersion = 0x03;
constexpr size_t kSignatureLength = 64;

std::optional<uint64_t> read_varint(std::string_view& in) {
  uint64_t value = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    const auto byte = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    value |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) return value;
  }
  return std::nullopt;
}

// One field: its number and either an integer or a byte string.
struct Field {
  uint64_t number = 0;
  bool is_bytes = false;
  uint64_t integer = 0;
  std::string_view bytes;
};

// Calls `on_field` for each field of `payload`; false when the payload is not well formed.
bool for_each_field(std::string_view payload, const std::function<void(const Field&)>& on_field) {
  while (!payload.empty()) {
    const auto tag = read_varint(payload);
    if (!tag) return false;
    Field field{*tag >> 3, (*tag & 0x7) == 2, 0, {}};
    switch (*tag & 0x7) {
      case 0: {
        const auto value = read_varint(payload);
        if (!value) return false;
        field.integer = *value;
        break;
      }
      case 2: {
        const auto length = read_varint(payload);
        if (!length || *length > payload.size()) return false;
        field.bytes = payload.substr(0, static_cast<size_t>(*length));
        payload.remove_prefix(static_cast<size_t>(*length));
        break;
      }
      default:
        return false;
    }
    on_field(field);
  }
  return true;
}

bool has_version(std::string_view raw) {
  return !raw.empty() && static_cast<unsigned char>(raw.front()) == kVersion;
}

// Narrows a parsed index; false when absent or beyond 32 bits.
bool take_index(const std::optional<uint64_t>& parsed, uint32_t& index) {
  if (!parsed || *parsed > UINT32_MAX) return false;
  index = static_cast<uint32_t>(*parsed);
  return true;
}

}  // namespace

std::optional<OlmMessage> parse_olm_message(std::string_view raw) {
  if (!has_version(raw) || raw.size() < 1 + kMacLength) return std::nullopt;
  OlmMessage msg;
  msg.authenticated = std::string(raw.substr(0, raw.size() - kMacLength));
  msg.mac = std::string(raw.substr(raw.size() - kMacLength));
  std::optional<uint64_t> index;
  std::optional<std::string_view> ciphertext;
  const std::string_view payload = raw.substr(1, raw.size() - 1 - kMacLength);
  const bool parsed = for_each_field(payload, [&](const Field& f) {
    if (f.number == 1 && f.is_bytes) msg.ratchet_key = std::string(f.bytes);
    if (f.number == 2 && !f.is_bytes) index = f.integer;
    if (f.number == 4 && f.is_bytes) ciphertext = f.bytes;
  });
  if (!parsed || !take_index(index, msg.chain_index) || !ciphertext ||
      msg.ratchet_key.size() != kKeyLength) {
    return std::nullopt;
  }
  msg.ciphertext = std::string(*ciphertext);
  return msg;
}

std::optional<PreKeyMessage> parse_prekey_message(std::string_view raw) {
  if (!has_version(raw)) return std::nullopt;
  PreKeyMessage msg;
  std::optional<std::string_view> message;
  const bool parsed = for_each_field(raw.substr(1), [&](const Field& f) {
    if (f.number == 1 && f.is_bytes) msg.one_time_key = std::string(f.bytes);
    if (f.number == 2 && f.is_bytes) msg.base_key = std::string(f.bytes);
    if (f.number == 3 && f.is_bytes) msg.identity_key = std::string(f.bytes);
    if (f.number == 4 && f.is_bytes) message = f.bytes;
  });
  if (!parsed || !message || msg.one_time_key.size() != kKeyLength ||
      msg.base_key.size() != kKeyLength || msg.identity_key.size() != kKeyLength) {
    return std::nullopt;
  }
  msg.message = std::string(*message);
  return msg;
}

std::optional<MegolmMessage> parse_megolm_message(std::string_view raw) {
  if (!has_version(raw) || raw.size() < 1 + kMacLength + kSignatureLength) return std::nullopt;
  MegolmMessage msg;
  const size_t payload_end = raw.size() - kMacLength - kSignatureLength;
  msg.authenticated = std::string(raw.substr(0, payload_end));
  msg.mac = std::string(raw.substr(payload_end, kMacLength));
  msg.signed_part = std::string(raw.substr(0, payload_end + kMacLength));
  msg.signature = std::string(raw.substr(payload_end + kMacLength));
  std::optional<uint64_t> index;
  std::optional<std::string_view> ciphertext;
  const bool parsed = for_each_field(raw.substr(1, payload_end - 1), [&](const Field& f) {
    if (f.number == 1 && !f.is_bytes) index = f.integer;
    if (f.number == 2 && f.is_bytes) ciphertext = f.bytes;
  });
  if (!parsed || !take_index(index, msg.message_index) || !ciphertext) return std::nullopt;
  msg.ciphertext = std::string(*ciphertext);
  return msg;
}

}  // namespace haven::crypto::olm
