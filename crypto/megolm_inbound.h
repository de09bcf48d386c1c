// The receiving side of a Megolm session (m.megolm.v1.aes-sha2; libolm docs/megolm.md): built
// from the session_key of an m.room_key to-device message, it decrypts the room's
// m.room.encrypted events of that session. Immutable after construction: decrypt works on a
// copy of the ratchet, so one InboundGroupSession may be shared by threads.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace haven::crypto::olm {

// The Megolm ratchet R(i): four 32-byte parts and the index i. Zeroed on destruction.
class MegolmRatchet {
 public:
  static constexpr size_t kLength = 128;
  static std::optional<MegolmRatchet> from_bytes(std::string_view bytes, uint32_t index);
  MegolmRatchet(const MegolmRatchet&) = default;
  MegolmRatchet& operator=(const MegolmRatchet&) = default;
  ~MegolmRatchet();

  uint32_t index() const { return index_; }
  std::string_view view() const {
    return {reinterpret_cast<const char*>(data_.data()), data_.size()};
  }
  // Moves forward to `index` (>= index()), rehashing only the parts that change.
  void advance_to(uint32_t index);

 private:
  MegolmRatchet() = default;
  // R(to) = HMAC-SHA-256(key R(from), the single byte `to`).
  void rehash(size_t from, size_t to);

  std::array<unsigned char, kLength> data_{};
  uint32_t index_ = 0;
};

class InboundGroupSession {
 public:
  // From the session_key (base64) of an m.room_key: version 2, index, ratchet, Ed25519 key,
  // signature by that key, which is checked. nullopt if malformed or the signature fails.
  static std::optional<InboundGroupSession> from_session_key(std::string_view session_key_b64);

  std::string session_id() const;  // the session's Ed25519 public key, unpadded base64
  uint32_t first_known_index() const { return ratchet_.index(); }

  struct Decrypted {
    std::string plaintext;
    uint32_t message_index;
  };
  // `ciphertext_b64` as in m.room.encrypted content. Checks the signature and the MAC; nullopt
  // on any failure and for messages before first_known_index().
  std::optional<Decrypted> decrypt(std::string_view ciphertext_b64) const;

  std::string serialize() const;  // holds the ratchet
  static std::optional<InboundGroupSession> deserialize(std::string_view bytes);

 private:
  InboundGroupSession(MegolmRatchet ratchet, std::string signing_key)
      : ratchet_(std::move(ratchet)), signing_key_(std::move(signing_key)) {}

  MegolmRatchet ratchet_;    // at first_known_index
  std::string signing_key_;  // raw 32-byte Ed25519 public key
};

}  // namespace haven::crypto::olm
