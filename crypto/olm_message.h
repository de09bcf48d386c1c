// The wire formats of Olm and Megolm messages (libolm docs olm.md / megolm.md): a version byte
// 0x03, then protobuf-style fields (varint tag, low 3 bits 0 = varint, 2 = length-prefixed),
// then MAC / signature trailers. Parsing only: sizes are checked, unknown fields skipped, and
// nothing is verified here. Pure functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace haven::crypto::olm {

// An Olm normal message (type 1, also the inside of a pre-key message).
struct OlmMessage {
  std::string ratchet_key;  // 32 bytes
  uint32_t chain_index = 0;
  std::string ciphertext;
  std::string authenticated;  // the bytes the MAC covers: everything before it
  std::string mac;            // 8 bytes
};
std::optional<OlmMessage> parse_olm_message(std::string_view raw);

// An Olm pre-key message (type 0); `message` is the embedded normal message, still unparsed.
struct PreKeyMessage {
  std::string one_time_key;  // the receiver's key the sender used, 32 bytes
  std::string base_key;      // 32 bytes
  std::string identity_key;  // the sender's Curve25519 identity key, 32 bytes
  std::string message;
};
std::optional<PreKeyMessage> parse_prekey_message(std::string_view raw);

// A Megolm message as in m.room.encrypted content.
struct MegolmMessage {
  uint32_t message_index = 0;
  std::string ciphertext;
  std::string authenticated;  // the bytes the MAC covers
  std::string mac;            // 8 bytes
  std::string signed_part;    // the bytes the signature covers (authenticated + mac)
  std::string signature;      // 64 bytes
};
std::optional<MegolmMessage> parse_megolm_message(std::string_view raw);

}  // namespace haven::crypto::olm
