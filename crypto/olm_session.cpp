#include "crypto/olm_session.h"

#include <algorithm>

#include "crypto/base64.h"
#include "crypto/hash.h"
#include "crypto/olm_pickle.h"

namespace haven::crypto::olm {
namespace {

constexpr uint8_t kPickleVersion = 1;
constexpr int kPreKeyType = 0;
constexpr int kNormalType = 1;

SecretKey hmac_key(const SecretKey& key, std::string_view data) {
  std::string mac = hmac_sha256(key.view(), data);
  auto out = SecretKey::from_bytes(mac);
  wipe(mac);
  return *out;
}

SecretKey next_chain_key(const SecretKey& chain_key) { return hmac_key(chain_key, "\x02"); }
SecretKey message_key_of(const SecretKey& chain_key) { return hmac_key(chain_key, "\x01"); }

std::optional<std::string> decrypt_with(const SecretKey& message_key, const OlmMessage& msg) {
  const CipherKeys keys = derive_cipher_keys(message_key.view(), "OLM_KEYS");
  return check_mac_and_decrypt(keys, msg.authenticated, msg.mac, msg.ciphertext);
}

}  // namespace

std::optional<Session> Session::from_shared_secret(const PreKeyMessage& prekey,
                                                   std::string_view shared_secret) {
  const auto inner = parse_olm_message(prekey.message);
  if (!inner) return std::nullopt;
  std::string derived = hkdf_sha256("", shared_secret, "OLM_ROOT", 64);
  Session session;
  session.their_identity_key_ = prekey.identity_key;
  session.their_base_key_ = prekey.base_key;
  session.our_one_time_key_ = prekey.one_time_key;
  session.root_key_ = *SecretKey::from_bytes(std::string_view(derived).substr(0, kKeyLength));
  session.chain_key_ = *SecretKey::from_bytes(std::string_view(derived).substr(kKeyLength));
  session.their_ratchet_key_ = inner->ratchet_key;
  wipe(derived);
  return session;
}

std::string Session::session_id() const {
  return base64_encode(sha256(their_identity_key_ + their_base_key_ + our_one_time_key_));
}

bool Session::matches(const PreKeyMessage& prekey) const {
  return prekey.identity_key == their_identity_key_ && prekey.base_key == their_base_key_ &&
         prekey.one_time_key == our_one_time_key_;
}

bool Session::matches_inbound(std::string_view sender_curve25519,
                              std::string_view prekey_message_b64) const {
  const auto sender = base64_decode(sender_curve25519);
  const auto raw = base64_decode(prekey_message_b64);
  if (!sender || !raw) return false;
  const auto prekey = parse_prekey_message(*raw);
  return prekey && prekey->identity_key == *sender && matches(*prekey);
}

std::optional<std::string> Session::decrypt(int type, std::string_view body_b64) {
  const auto raw = base64_decode(body_b64);
  if (!raw) return std::nullopt;
  if (type == kNormalType) return decrypt_normal(*raw);
  if (type != kPreKeyType) return std::nullopt;
  const auto prekey = parse_prekey_message(*raw);
  if (!prekey || !matches(*prekey)) return std::nullopt;
  return decrypt_normal(prekey->message);
}

std::optional<std::string> Session::decrypt_normal(std::string_view raw) {
  const auto msg = parse_olm_message(raw);
  // Another ratchet key would need ours to derive its chain, and we never made one.
  if (!msg || msg->ratchet_key != their_ratchet_key_) return std::nullopt;

  if (msg->chain_index < chain_index_) {
    const auto skipped = std::find_if(skipped_.begin(), skipped_.end(), [&](const SkippedKey& k) {
      return k.chain_index == msg->chain_index;
    });
    if (skipped == skipped_.end()) return std::nullopt;
    auto plaintext = decrypt_with(skipped->message_key, *msg);
    if (plaintext) skipped_.erase(skipped);
    return plaintext;
  }
  if (msg->chain_index - chain_index_ > kMaxMessageGap) return std::nullopt;

  // Work on copies; nothing changes until the MAC has been checked.
  SecretKey chain_key = chain_key_;
  std::vector<SkippedKey> new_skipped;
  for (uint32_t index = chain_index_; index < msg->chain_index; ++index) {
    new_skipped.push_back({index, message_key_of(chain_key)});
    chain_key = next_chain_key(chain_key);
  }
  auto plaintext = decrypt_with(message_key_of(chain_key), *msg);
  if (!plaintext) return std::nullopt;

  chain_key_ = next_chain_key(chain_key);
  chain_index_ = msg->chain_index + 1;
  skipped_.insert(skipped_.end(), new_skipped.begin(), new_skipped.end());
  if (skipped_.size() > kMaxSkippedKeys) {
    skipped_.erase(skipped_.begin(), skipped_.begin() + static_cast<std::ptrdiff_t>(
                                                            skipped_.size() - kMaxSkippedKeys));
  }
  return plaintext;
}

std::string Session::serialize() const {
  PickleWriter out;
  out.u8(kPickleVersion);
  out.bytes(their_identity_key_);
  out.bytes(their_base_key_);
  out.bytes(our_one_time_key_);
  out.key(root_key_);
  out.bytes(their_ratchet_key_);
  out.key(chain_key_);
  out.u32(chain_index_);
  out.u32(static_cast<uint32_t>(skipped_.size()));
  for (const SkippedKey& key : skipped_) {
    out.u32(key.chain_index);
    out.key(key.message_key);
  }
  return out.take();
}

std::optional<Session> Session::deserialize(std::string_view bytes) {
  PickleReader in(bytes);
  if (in.u8() != kPickleVersion) return std::nullopt;
  Session session;
  auto identity = in.bytes(kKeyLength);
  auto base = in.bytes(kKeyLength);
  auto one_time = in.bytes(kKeyLength);
  auto root = in.key();
  auto ratchet = in.bytes(kKeyLength);
  auto chain = in.key();
  auto chain_index = in.u32();
  auto skipped_count = in.u32();
  if (!identity || !base || !one_time || !root || !ratchet || !chain || !chain_index ||
      !skipped_count || *skipped_count > kMaxSkippedKeys) {
    return std::nullopt;
  }
  for (uint32_t i = 0; i < *skipped_count; ++i) {
    auto index = in.u32();
    auto key = in.key();
    if (!index || !key || *index >= *chain_index) return std::nullopt;
    session.skipped_.push_back({*index, *key});
  }
  if (!in.at_end()) return std::nullopt;
  session.their_identity_key_ = std::move(*identity);
  session.their_base_key_ = std::move(*base);
  session.our_one_time_key_ = std::move(*one_time);
  session.root_key_ = *root;
  session.their_ratchet_key_ = std::move(*ratchet);
  session.chain_key_ = *chain;
  session.chain_index_ = *chain_index;
  return session;
}

}  // namespace haven::crypto::olm
