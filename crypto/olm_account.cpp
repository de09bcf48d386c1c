#include "crypto/olm_account.h"

#include <algorithm>

#include "crypto/base64.h"
#include "crypto/olm_message.h"
#include "crypto/olm_pickle.h"

namespace haven::crypto::olm {
namespace {

constexpr uint8_t kPickleVersion = 1;
constexpr std::string_view kSigningKeyVersion = "olm";

std::string key_id_of(uint32_t id) {
  std::string bytes;
  for (int shift = 24; shift >= 0; shift -= 8) bytes += static_cast<char>((id >> shift) & 0xFF);
  return base64_encode(bytes);
}

struct PickledKey {
  uint32_t id = 0;
  bool published = false;
  Curve25519KeyPair pair;
};

void write_key(PickleWriter& out, uint32_t id, bool published, const Curve25519KeyPair& pair) {
  out.u32(id);
  out.u8(published ? 1 : 0);
  out.key(pair.private_key);
}

std::optional<PickledKey> read_key(PickleReader& in) {
  const auto id = in.u32();
  const auto published = in.u8();
  const auto secret = in.key();
  if (!id || !published || *published > 1 || !secret) return std::nullopt;
  auto pair = curve25519_from_private(secret->view());
  return PickledKey{*id, *published == 1, std::move(*pair)};
}

}  // namespace

Account Account::generate() {
  Account account(SigningKey::generate(std::string(kSigningKeyVersion)));
  account.identity_ = generate_curve25519();
  return account;
}

std::optional<Account> Account::from_private_keys(const PrivateKeys& keys) {
  auto signing = SigningKey::from_seed(keys.ed25519_seed, std::string(kSigningKeyVersion));
  auto identity = curve25519_from_private(keys.curve25519);
  if (!signing || !identity) return std::nullopt;
  Account account(std::move(*signing));
  account.identity_ = std::move(*identity);
  for (const std::string& one_time : keys.one_time) {
    auto pair = curve25519_from_private(one_time);
    if (!pair) return std::nullopt;
    account.one_time_keys_.push_back(account.new_key(std::move(*pair)));
  }
  if (!keys.fallback.empty()) {
    auto pair = curve25519_from_private(keys.fallback);
    if (!pair) return std::nullopt;
    account.fallback_ = account.new_key(std::move(*pair));
  }
  return account;
}

Account::StoredKey Account::new_key(Curve25519KeyPair pair) {
  return StoredKey{next_key_id_++, false, std::move(pair)};
}

OneTimeKey Account::to_public(const StoredKey& key) {
  return {key_id_of(key.id), base64_encode(key.pair.public_key)};
}

std::string Account::curve25519_key() const { return base64_encode(identity_.public_key); }
std::string Account::ed25519_key() const { return base64_encode(signing_.public_key()); }
std::string Account::sign(std::string_view message) const {
  return base64_encode(signing_.sign(message));
}

void Account::generate_one_time_keys(size_t count) {
  count = std::min(count, kMaxOneTimeKeys);  // more would only push out the new ones
  for (size_t i = 0; i < count; ++i) one_time_keys_.push_back(new_key(generate_curve25519()));
  if (one_time_keys_.size() > kMaxOneTimeKeys) {
    one_time_keys_.erase(one_time_keys_.begin(),
                         one_time_keys_.begin() +
                             static_cast<std::ptrdiff_t>(one_time_keys_.size() - kMaxOneTimeKeys));
  }
}

std::vector<OneTimeKey> Account::unpublished_one_time_keys() const {
  std::vector<OneTimeKey> out;
  for (const StoredKey& key : one_time_keys_) {
    if (!key.published) out.push_back(to_public(key));
  }
  return out;
}

void Account::generate_fallback_key() {
  previous_fallback_ = std::move(fallback_);
  fallback_ = new_key(generate_curve25519());
}

std::optional<OneTimeKey> Account::unpublished_fallback_key() const {
  if (!fallback_ || fallback_->published) return std::nullopt;
  return to_public(*fallback_);
}

void Account::mark_keys_as_published() {
  for (StoredKey& key : one_time_keys_) key.published = true;
  if (fallback_) fallback_->published = true;
}

const Account::StoredKey* Account::find_key(std::string_view public_key) const {
  for (const StoredKey& key : one_time_keys_) {
    if (key.pair.public_key == public_key) return &key;
  }
  if (fallback_ && fallback_->pair.public_key == public_key) return &*fallback_;
  if (previous_fallback_ && previous_fallback_->pair.public_key == public_key) {
    return &*previous_fallback_;
  }
  return nullptr;
}

std::optional<Account::InboundCreated> Account::create_inbound_session(
    std::string_view sender_curve25519, std::string_view prekey_message_b64) {
  const auto sender = base64_decode(sender_curve25519);
  const auto raw = base64_decode(prekey_message_b64);
  if (!sender || !raw) return std::nullopt;
  const auto prekey = parse_prekey_message(*raw);
  if (!prekey || prekey->identity_key != *sender) return std::nullopt;
  const StoredKey* our_key = find_key(prekey->one_time_key);
  if (!our_key) return std::nullopt;

  // Bob's side of the triple Diffie-Hellman: ECDH(I_A, E_B) || ECDH(E_A, I_B) || ECDH(E_A, E_B).
  const auto first = curve25519_shared(our_key->pair.private_key, prekey->identity_key);
  const auto second = curve25519_shared(identity_.private_key, prekey->base_key);
  const auto third = curve25519_shared(our_key->pair.private_key, prekey->base_key);
  if (!first || !second || !third) return std::nullopt;
  std::string shared;
  shared.append(first->view()).append(second->view()).append(third->view());
  auto session = Session::from_shared_secret(*prekey, shared);
  wipe(shared);
  if (!session) return std::nullopt;
  auto plaintext = session->decrypt_normal(prekey->message);
  if (!plaintext) return std::nullopt;

  const uint32_t used_id = our_key->id;
  std::erase_if(one_time_keys_, [&](const StoredKey& key) { return key.id == used_id; });
  return InboundCreated{std::move(*session), std::move(*plaintext)};
}

std::string Account::serialize() const {
  PickleWriter out;
  out.u8(kPickleVersion);
  out.key(identity_.private_key);
  std::string seed = signing_.seed();
  out.bytes(seed);
  wipe(seed);
  out.u32(next_key_id_);
  out.u32(static_cast<uint32_t>(one_time_keys_.size()));
  for (const StoredKey& key : one_time_keys_) write_key(out, key.id, key.published, key.pair);
  for (const auto* fallback : {&fallback_, &previous_fallback_}) {
    out.u8(fallback->has_value() ? 1 : 0);
    if (*fallback) write_key(out, (*fallback)->id, (*fallback)->published, (*fallback)->pair);
  }
  return out.take();
}

std::optional<Account> Account::deserialize(std::string_view bytes) {
  PickleReader in(bytes);
  if (in.u8() != kPickleVersion) return std::nullopt;
  const auto identity = in.key();
  auto seed = in.bytes(kKeyLength);
  const auto next_key_id = in.u32();
  const auto count = in.u32();
  if (!identity || !seed || !next_key_id || !count || *count > kMaxOneTimeKeys) {
    return std::nullopt;
  }
  auto signing = SigningKey::from_seed(*seed, std::string(kSigningKeyVersion));
  wipe(*seed);
  if (!signing) return std::nullopt;
  Account account(std::move(*signing));
  account.identity_ = *curve25519_from_private(identity->view());
  account.next_key_id_ = *next_key_id;
  auto to_stored = [](PickledKey key) {
    return StoredKey{key.id, key.published, std::move(key.pair)};
  };
  for (uint32_t i = 0; i < *count; ++i) {
    auto key = read_key(in);
    if (!key) return std::nullopt;
    account.one_time_keys_.push_back(to_stored(std::move(*key)));
  }
  for (auto* fallback : {&account.fallback_, &account.previous_fallback_}) {
    const auto present = in.u8();
    if (!present || *present > 1) return std::nullopt;
    if (*present == 0) continue;
    auto key = read_key(in);
    if (!key) return std::nullopt;
    *fallback = to_stored(std::move(*key));
  }
  if (!in.at_end()) return std::nullopt;
  return account;
}

}  // namespace haven::crypto::olm
