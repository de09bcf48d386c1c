// The receiving side of an Olm session (m.olm.v1.curve25519-aes-sha2; libolm docs/olm.md),
// created by Account::create_inbound_session from the sender's first pre-key message.
//
// Receive-only: this side never sends, so it never makes a ratchet key of its own. The sender
// therefore keeps the ratchet key of its first message (libolm and vodozemac only move to a new
// one after receiving from us) and a message on any other ratchet key is refused. Messages
// may arrive out of order: keys of skipped messages are kept (at most kMaxSkippedKeys, oldest
// dropped) and the sender may run at most kMaxMessageGap messages ahead, as in libolm.
//
// Not thread-safe: one thread at a time per Session (decrypt changes it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/olm_message.h"
#include "crypto/olm_primitives.h"

namespace haven::crypto::olm {

class Session {
 public:
  static constexpr size_t kMaxSkippedKeys = 40;
  static constexpr uint32_t kMaxMessageGap = 2000;

  // SHA-256 of the sender's identity key, its base key and our one-time key; unpadded base64
  // (the same id libolm gives the sender's side).
  std::string session_id() const;
  // Whether a pre-key message belongs to this session: the same sender identity key (base64),
  // base key and one-time key. False for anything that does not parse.
  bool matches_inbound(std::string_view sender_curve25519,
                       std::string_view prekey_message_b64) const;
  // `type` 0 (pre-key) or 1 (normal); `body_b64` as in the to-device content. nullopt on any
  // failure, which leaves the session unchanged.
  std::optional<std::string> decrypt(int type, std::string_view body_b64);

  std::string serialize() const;  // holds secret keys
  static std::optional<Session> deserialize(std::string_view bytes);

 private:
  friend class Account;
  struct SkippedKey {
    uint32_t chain_index = 0;
    SecretKey message_key;
  };

  Session() = default;
  // The session Bob derives from the pre-key message `prekey` (already matched to our keys)
  // and the shared secret of the triple Diffie-Hellman.
  static std::optional<Session> from_shared_secret(const PreKeyMessage& prekey,
                                                   std::string_view shared_secret);
  std::optional<std::string> decrypt_normal(std::string_view raw);
  bool matches(const PreKeyMessage& prekey) const;

  std::string their_identity_key_;  // raw 32 bytes
  std::string their_base_key_;
  std::string our_one_time_key_;
  SecretKey root_key_;  // kept for when this side would ratchet
  std::string their_ratchet_key_;
  SecretKey chain_key_;  // C(0, chain_index_)
  uint32_t chain_index_ = 0;
  std::vector<SkippedKey> skipped_;  // oldest first
};

}  // namespace haven::crypto::olm
