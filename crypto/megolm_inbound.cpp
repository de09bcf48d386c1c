#include "crypto/megolm_inbound.h"

#include <sodium.h>

#include <algorithm>

#include "crypto/base64.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "crypto/olm_message.h"
#include "crypto/olm_pickle.h"
#include "crypto/olm_primitives.h"

namespace haven::crypto::olm {
namespace {

constexpr size_t kPartLength = 32;
constexpr size_t kParts = 4;
constexpr uint8_t kSessionKeyVersion = 2;
constexpr uint8_t kPickleVersion = 1;
constexpr size_t kPublicKeyLength = 32;
constexpr size_t kSignatureLength = 64;
// version, index, ratchet, public key, signature
constexpr size_t kSessionKeyLength =
    1 + 4 + MegolmRatchet::kLength + kPublicKeyLength + kSignatureLength;

uint32_t read_u32(std::string_view bytes) {
  uint32_t value = 0;
  for (size_t i = 0; i < 4; ++i) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

}  // namespace

std::optional<MegolmRatchet> MegolmRatchet::from_bytes(std::string_view bytes, uint32_t index) {
  if (bytes.size() != kLength) return std::nullopt;
  MegolmRatchet ratchet;
  std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(ratchet.data_.data()));
  ratchet.index_ = index;
  return ratchet;
}

MegolmRatchet::~MegolmRatchet() { sodium_memzero(data_.data(), data_.size()); }

void MegolmRatchet::rehash(size_t from, size_t to) {
  const std::string_view key(reinterpret_cast<const char*>(data_.data() + from * kPartLength),
                             kPartLength);
  const char seed = static_cast<char>(to);
  std::string next = hmac_sha256(key, std::string_view(&seed, 1));
  std::copy(next.begin(), next.end(), reinterpret_cast<char*>(data_.data() + to * kPartLength));
  wipe(next);
}

void MegolmRatchet::advance_to(uint32_t index) {
  // Part j changes every 2^(8 * (3 - j)) messages; when it does, the parts after it are
  // reseeded from its value before the change (megolm.md, "The Megolm ratchet algorithm").
  for (size_t part = 0; part < kParts; ++part) {
    const unsigned shift = static_cast<unsigned>(8 * (kParts - 1 - part));
    const uint32_t steps = ((index >> shift) - (index_ >> shift)) & 0xFF;
    if (steps == 0) continue;
    for (uint32_t step = 1; step < steps; ++step) rehash(part, part);
    for (size_t later = kParts - 1; later > part; --later) rehash(part, later);
    rehash(part, part);
    index_ = index & (~uint32_t{0} << shift);
  }
  index_ = index;
}

std::optional<InboundGroupSession> InboundGroupSession::from_session_key(
    std::string_view session_key_b64) {
  auto raw = base64_decode(session_key_b64);
  if (!raw || raw->size() != kSessionKeyLength ||
      static_cast<unsigned char>((*raw)[0]) != kSessionKeyVersion) {
    if (raw) wipe(*raw);
    return std::nullopt;
  }
  const std::string_view key(*raw);
  const std::string_view signing_key = key.substr(5 + MegolmRatchet::kLength, kPublicKeyLength);
  const std::string_view signature = key.substr(kSessionKeyLength - kSignatureLength);
  std::optional<InboundGroupSession> session;
  if (ed25519_verify(signing_key, key.substr(0, kSessionKeyLength - kSignatureLength), signature)) {
    session = InboundGroupSession(
        *MegolmRatchet::from_bytes(key.substr(5, MegolmRatchet::kLength), read_u32(key.substr(1))),
        std::string(signing_key));
  }
  wipe(*raw);
  return session;
}

std::string InboundGroupSession::session_id() const { return base64_encode(signing_key_); }

std::optional<InboundGroupSession::Decrypted> InboundGroupSession::decrypt(
    std::string_view ciphertext_b64) const {
  const auto raw = base64_decode(ciphertext_b64);
  if (!raw) return std::nullopt;
  const auto msg = parse_megolm_message(*raw);
  if (!msg || !ed25519_verify(signing_key_, msg->signed_part, msg->signature)) return std::nullopt;
  if (msg->message_index < first_known_index()) return std::nullopt;
  MegolmRatchet ratchet = ratchet_;
  ratchet.advance_to(msg->message_index);
  const CipherKeys keys = derive_cipher_keys(ratchet.view(), "MEGOLM_KEYS");
  auto plaintext = check_mac_and_decrypt(keys, msg->authenticated, msg->mac, msg->ciphertext);
  if (!plaintext) return std::nullopt;
  return Decrypted{std::move(*plaintext), msg->message_index};
}

std::string InboundGroupSession::serialize() const {
  PickleWriter out;
  out.u8(kPickleVersion);
  out.u32(ratchet_.index());
  out.bytes(ratchet_.view());
  out.bytes(signing_key_);
  return out.take();
}

std::optional<InboundGroupSession> InboundGroupSession::deserialize(std::string_view bytes) {
  PickleReader in(bytes);
  if (in.u8() != kPickleVersion) return std::nullopt;
  const auto index = in.u32();
  auto ratchet_bytes = in.bytes(MegolmRatchet::kLength);
  auto signing_key = in.bytes(kPublicKeyLength);
  if (!index || !ratchet_bytes || !signing_key || !in.at_end()) {
    if (ratchet_bytes) wipe(*ratchet_bytes);
    return std::nullopt;
  }
  auto ratchet = MegolmRatchet::from_bytes(*ratchet_bytes, *index);
  wipe(*ratchet_bytes);
  return InboundGroupSession(std::move(*ratchet), std::move(*signing_key));
}

}  // namespace haven::crypto::olm
