// An Olm account (libolm docs/olm.md): the device's Curve25519 identity key and Ed25519 signing
// key, its one-time keys and fallback key, and the receiving end of new Olm sessions.
// Receive-only: it creates sessions from pre-key messages, never outbound ones.
//
// Not thread-safe: one thread at a time per Account.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/ed25519.h"
#include "crypto/olm_primitives.h"
#include "crypto/olm_session.h"

namespace haven::crypto::olm {

struct OneTimeKey {
  std::string key_id;      // e.g. "AAAAAQ", the part after "signed_curve25519:"
  std::string public_key;  // unpadded base64
};

class Account {
 public:
  static constexpr size_t kMaxOneTimeKeys = 100;  // as libolm; publish at most half of it

  struct InboundCreated {
    Session session;
    std::string plaintext;
  };
  // Raw 32-byte private keys, to rebuild a known account (tests; key import).
  struct PrivateKeys {
    std::string curve25519;
    std::string ed25519_seed;
    std::vector<std::string> one_time;  // given ids in order, all unpublished
    std::string fallback;               // empty: none
  };

  static Account generate();
  static std::optional<Account> from_private_keys(const PrivateKeys& keys);

  std::string curve25519_key() const;                // identity key, unpadded base64
  std::string ed25519_key() const;                   // unpadded base64
  std::string sign(std::string_view message) const;  // unpadded base64 Ed25519 signature

  // Adds `count` (at most kMaxOneTimeKeys) new unpublished one-time keys; beyond
  // kMaxOneTimeKeys stored keys the oldest are dropped, published or not.
  void generate_one_time_keys(size_t count);
  std::vector<OneTimeKey> unpublished_one_time_keys() const;
  // A new fallback key; the previous one stays usable until the next call.
  void generate_fallback_key();
  std::optional<OneTimeKey> unpublished_fallback_key() const;
  void mark_keys_as_published();  // one-time and fallback
  size_t max_one_time_keys() const { return kMaxOneTimeKeys; }

  // From an Olm pre-key message (type 0, base64 body) by `sender_curve25519` (base64): the new
  // session and the first plaintext. The one-time key used is removed (a fallback key is not).
  // nullopt when the message is malformed, is not from that sender, names a key this account
  // does not have, or fails its MAC; the account is then unchanged.
  std::optional<InboundCreated> create_inbound_session(std::string_view sender_curve25519,
                                                       std::string_view prekey_message_b64);

  std::string serialize() const;  // holds the private keys
  static std::optional<Account> deserialize(std::string_view bytes);

 private:
  struct StoredKey {
    uint32_t id = 0;
    bool published = false;
    Curve25519KeyPair pair;
  };

  explicit Account(SigningKey signing) : signing_(std::move(signing)) {}
  StoredKey new_key(Curve25519KeyPair pair);
  const StoredKey* find_key(std::string_view public_key) const;
  static OneTimeKey to_public(const StoredKey& key);

  Curve25519KeyPair identity_;
  SigningKey signing_;
  std::vector<StoredKey> one_time_keys_;  // oldest first
  std::optional<StoredKey> fallback_;
  std::optional<StoredKey> previous_fallback_;
  uint32_t next_key_id_ = 1;
};

}  // namespace haven::crypto::olm
