#include "appservices/care/care_e2ee.h"

#include <spdlog/spdlog.h>

#include "crypto/base64.h"
#include "crypto/canonical_json.h"
#include "crypto/ed25519.h"
#include "crypto/megolm_inbound.h"
#include "crypto/olm_account.h"
#include "crypto/olm_session.h"
#include "crypto/random.h"

namespace haven::care {

namespace {

constexpr std::string_view kOlm = "m.olm.v1.curve25519-aes-sha2";
constexpr std::string_view kMegolm = "m.megolm.v1.aes-sha2";
constexpr std::string_view kSignedCurve = "signed_curve25519";
constexpr size_t kMaxCiphertextBytes = 256 * 1024;
constexpr size_t kMaxSessionsTried = 16;

// What a signature covers: the canonical JSON without "signatures" and "unsigned".
std::string signed_text(const json::Value& object) {
  return crypto::canonical_json_excluding(object, {"signatures", "unsigned"}).value_or("");
}

// Adds signatures.{user}.{key_id} = signature to `object` (kept with the others already there).
void add_signature(json::Document& d, json::Value& object, const std::string& user_id,
                   const std::string& key_id, const std::string& signature) {
  auto& a = d.GetAllocator();
  auto sigs = object.FindMember("signatures");
  if (sigs == object.MemberEnd()) {
    json::set(object, "signatures", json::Value(rapidjson::kObjectType), a);
    sigs = object.FindMember("signatures");
  }
  auto mine = sigs->value.FindMember(rapidjson::StringRef(user_id.data(), user_id.size()));
  if (mine == sigs->value.MemberEnd()) {
    json::set(sigs->value, user_id, json::Value(rapidjson::kObjectType), a);
    mine = sigs->value.FindMember(rapidjson::StringRef(user_id.data(), user_id.size()));
  }
  json::set(mine->value, key_id, signature, a);
}

std::string query(const std::string& device_id) { return "?device_id=" + encode_segment(device_id); }

}  // namespace

CareE2ee::CareE2ee(const CareConfig& config, HavenApi& haven, E2eeStore& store,
                   std::function<bool(const std::string&)> wants_room)
    : config_(config),
      haven_(haven),
      store_(store),
      wants_room_(std::move(wants_room)),
      user_id_("@" + config.sender_localpart + ":" + config.server_name) {}

CareE2ee::~CareE2ee() = default;

const std::string& CareE2ee::device_id() const { return device_id_; }

Status CareE2ee::save_account() {
  return store_.put_account(stored_account());
}

StoredAccount CareE2ee::stored_account() const {
  return {device_id_, account_->serialize(), master_key_->seed(), self_signing_key_->seed()};
}

Status CareE2ee::load_or_make_account() {
  if (auto stored = store_.account()) {
    auto account = crypto::olm::Account::deserialize(stored->account);
    if (!account) return Error::unknown("haven-care's stored Olm account cannot be read");
    auto master = crypto::SigningKey::from_seed(stored->master_seed, "master");
    auto self_signing = crypto::SigningKey::from_seed(stored->self_signing_seed, "self_signing");
    if (!master || !self_signing) {
      return Error::unknown("haven-care's stored cross-signing keys cannot be read");
    }
    account_ = std::make_unique<crypto::olm::Account>(std::move(*account));
    master_key_ = std::make_unique<crypto::SigningKey>(std::move(*master));
    self_signing_key_ = std::make_unique<crypto::SigningKey>(std::move(*self_signing));
    device_id_ = stored->device_id;
    return {};
  }
  account_ = std::make_unique<crypto::olm::Account>(crypto::olm::Account::generate());
  master_key_ = std::make_unique<crypto::SigningKey>(crypto::SigningKey::generate("master"));
  self_signing_key_ =
      std::make_unique<crypto::SigningKey>(crypto::SigningKey::generate("self_signing"));
  device_id_ = "CARE" + crypto::random_token(8);
  account_->generate_fallback_key();
  return save_account();
}

Status CareE2ee::set_up() {
  if (ready_) return {};
  if (!account_) {
    if (auto s = load_or_make_account(); !s.ok()) return s;
  }
  if (auto s = ensure_device(); !s.ok()) return s;
  if (auto s = publish_device_keys(); !s.ok()) return s;
  if (auto s = publish_cross_signing(); !s.ok()) return s;
  // An empty upload answers the published count.
  auto counts = haven_.as_service("POST", "/_matrix/client/v3/keys/upload" + query(device_id_),
                                  "{}", user_id_);
  if (!counts.ok()) return counts.error();
  const json::Value* n = json::member(counts.body, "one_time_key_counts");
  const json::Value* curve = n ? json::member(*n, kSignedCurve) : nullptr;
  size_t published = curve && curve->IsUint() ? curve->GetUint() : 0;
  if (auto s = top_up(published, true); !s.ok()) return s;
  ready_ = true;
  spdlog::info("haven-care: device {} of {} is ready for encrypted rooms", device_id_, user_id_);
  return {};
}

// MSC4190: the service makes its user's device; it has no access token of its own, so haven
// forwards its to-device messages in the service's transactions.
Status CareE2ee::ensure_device() {
  auto put = haven_.as_service("PUT", "/_matrix/client/v3/devices/" + encode_segment(device_id_),
                               R"({"display_name":"haven-care"})", user_id_);
  if (!put.ok()) return put.error();
  return {};
}

json::Document CareE2ee::device_keys() const {
  json::Document keys = json::object();
  auto& a = keys.GetAllocator();
  json::set(keys, "user_id", user_id_, a);
  json::set(keys, "device_id", device_id_, a);
  json::Value algorithms(rapidjson::kArrayType);
  algorithms.PushBack(json::str(kOlm, a), a);
  algorithms.PushBack(json::str(kMegolm, a), a);
  json::set(keys, "algorithms", std::move(algorithms), a);
  json::Value key_map(rapidjson::kObjectType);
  json::set(key_map, "curve25519:" + device_id_, account_->curve25519_key(), a);
  json::set(key_map, "ed25519:" + device_id_, account_->ed25519_key(), a);
  json::set(keys, "keys", std::move(key_map), a);
  add_signature(keys, keys, user_id_, "ed25519:" + device_id_, account_->sign(signed_text(keys)));
  return keys;
}

Status CareE2ee::publish_device_keys() {
  json::Document d = json::object();
  json::Value keys(device_keys(), d.GetAllocator());
  json::set(d, "device_keys", std::move(keys), d.GetAllocator());
  auto up = haven_.as_service("POST", "/_matrix/client/v3/keys/upload" + query(device_id_),
                              json::to_string(d), user_id_);
  if (!up.ok()) return up.error();
  return {};
}

// The user's master key signs its self-signing key, which signs the device (the appservice's
// users need no UIA for this). Uploading the same keys again changes nothing.
Status CareE2ee::publish_cross_signing() {
  const std::string master_pub = crypto::base64_encode(master_key_->public_key());
  const std::string ssk_pub = crypto::base64_encode(self_signing_key_->public_key());
  auto cross_signing_key = [&](json::Document& d, const char* usage, const std::string& pub) {
    auto& a = d.GetAllocator();
    json::Value key(rapidjson::kObjectType);
    json::set(key, "user_id", user_id_, a);
    json::Value usages(rapidjson::kArrayType);
    usages.PushBack(json::str(usage, a), a);
    json::set(key, "usage", std::move(usages), a);
    json::Value keys(rapidjson::kObjectType);
    json::set(keys, "ed25519:" + pub, pub, a);
    json::set(key, "keys", std::move(keys), a);
    return key;
  };
  json::Document up = json::object();
  auto& a = up.GetAllocator();
  json::Value master = cross_signing_key(up, "master", master_pub);
  json::Value ssk = cross_signing_key(up, "self_signing", ssk_pub);
  add_signature(up, ssk, user_id_, "ed25519:" + master_pub,
                crypto::base64_encode(master_key_->sign(signed_text(ssk))));
  json::set(up, "master_key", std::move(master), a);
  json::set(up, "self_signing_key", std::move(ssk), a);
  auto keys_up = haven_.as_service("POST", "/_matrix/client/v3/keys/device_signing/upload",
                                   json::to_string(up), user_id_);
  if (!keys_up.ok()) return keys_up.error();

  json::Document device = device_keys();
  add_signature(device, device, user_id_, "ed25519:" + ssk_pub,
                crypto::base64_encode(self_signing_key_->sign(signed_text(device))));
  json::Document sigs = json::object();
  json::Value by_device(rapidjson::kObjectType);
  json::set(by_device, device_id_, json::Value(device, sigs.GetAllocator()), sigs.GetAllocator());
  json::set(sigs, user_id_, std::move(by_device), sigs.GetAllocator());
  auto sig_up = haven_.as_service("POST", "/_matrix/client/v3/keys/signatures/upload",
                                  json::to_string(sigs), user_id_);
  if (!sig_up.ok()) return sig_up.error();
  if (auto failures = sig_up.body.FindMember("failures");
      failures != sig_up.body.MemberEnd() && failures->value.IsObject() &&
      failures->value.MemberCount() > 0) {
    return Error::unknown("haven refused the device's cross-signing signature");
  }
  return {};
}

// The /keys/upload body of one-time and fallback keys, each signed by the device.
json::Document CareE2ee::signed_key_upload(const std::vector<crypto::olm::OneTimeKey>& one_time,
                                           const std::optional<crypto::olm::OneTimeKey>& fallback) const {
  json::Document d = json::object();
  auto& a = d.GetAllocator();
  auto signed_key = [&](const crypto::olm::OneTimeKey& k, bool is_fallback) {
    json::Value v(rapidjson::kObjectType);
    json::set(v, "key", k.public_key, a);
    if (is_fallback) json::set(v, "fallback", true, a);
    add_signature(d, v, user_id_, "ed25519:" + device_id_, account_->sign(signed_text(v)));
    return v;
  };
  json::Value otks(rapidjson::kObjectType);
  for (const auto& k : one_time) {
    json::set(otks, std::string(kSignedCurve) + ":" + k.key_id, signed_key(k, false), a);
  }
  json::set(d, "one_time_keys", std::move(otks), a);
  if (fallback) {
    json::Value fallbacks(rapidjson::kObjectType);
    json::set(fallbacks, std::string(kSignedCurve) + ":" + fallback->key_id,
              signed_key(*fallback, true), a);
    json::set(d, "fallback_keys", std::move(fallbacks), a);
  }
  return d;
}

// Publishes new one-time keys when fewer than half of kWantedOneTimeKeys are left, and a new
// fallback key when the last one was used. Keys are saved before they are published and marked
// published after: a failed upload is tried again with the same keys.
Status CareE2ee::top_up(size_t published_count, bool fallback_unused) {
  bool changed = false;
  if (published_count < kWantedOneTimeKeys / 2 &&
      account_->unpublished_one_time_keys().size() + published_count < kWantedOneTimeKeys) {
    account_->generate_one_time_keys(kWantedOneTimeKeys - published_count -
                                     account_->unpublished_one_time_keys().size());
    changed = true;
  }
  if (!fallback_unused && !account_->unpublished_fallback_key()) {
    account_->generate_fallback_key();
    changed = true;
  }
  auto one_time = account_->unpublished_one_time_keys();
  auto fallback = account_->unpublished_fallback_key();
  if (one_time.empty() && !fallback) return {};
  if (changed) {
    if (auto s = save_account(); !s.ok()) return s;
  }
  json::Document d = signed_key_upload(one_time, fallback);
  auto up = haven_.as_service("POST", "/_matrix/client/v3/keys/upload" + query(device_id_),
                              json::to_string(d), user_id_);
  if (!up.ok()) return up.error();
  account_->mark_keys_as_published();
  return save_account();
}

void CareE2ee::on_key_counts(const json::Value& transaction) {
  if (!ready_) return;
  auto for_device = [&](std::string_view field) -> const json::Value* {
    const json::Value* by_user = json::member(transaction, field);
    const json::Value* by_device = by_user ? json::member(*by_user, user_id_) : nullptr;
    return by_device ? json::member(*by_device, device_id_) : nullptr;
  };
  const json::Value* counts = for_device("org.matrix.msc3202.device_one_time_keys_count");
  const json::Value* fallbacks = for_device("org.matrix.msc3202.device_unused_fallback_key_types");
  if (!counts && !fallbacks) return;
  const json::Value* curve = counts ? json::member(*counts, kSignedCurve) : nullptr;
  size_t published = curve && curve->IsUint() ? curve->GetUint() : kWantedOneTimeKeys;
  bool fallback_unused = true;
  if (fallbacks && fallbacks->IsArray()) {
    fallback_unused = false;
    for (const auto& t : fallbacks->GetArray()) {
      if (t.IsString() && std::string_view(t.GetString(), t.GetStringLength()) == kSignedCurve) {
        fallback_unused = true;
      }
    }
  }
  if (auto s = top_up(published, fallback_unused); !s.ok()) {
    spdlog::warn("haven-care: one-time keys not topped up: {}", s.error().message);
  }
}

// Decrypts an Olm message from the device with Curve25519 key `sender_key`: with one of the
// sessions it opened before, or, for a pre-key message, a new session on one of our one-time keys.
std::optional<std::string> CareE2ee::olm_decrypt(const std::string& sender_key, int type,
                                                 const std::string& body) {
  // A pre-key message names its session; a normal one is tried on at most kMaxSessionsTried.
  size_t tried = 0;
  for (auto& stored : store_.olm_sessions(sender_key)) {
    auto session = crypto::olm::Session::deserialize(stored.session);
    if (!session) continue;
    if (type == 0 ? !session->matches_inbound(sender_key, body) : ++tried > kMaxSessionsTried) {
      continue;
    }
    auto plaintext = session->decrypt(type, body);
    if (!plaintext) continue;
    stored.session = session->serialize();
    if (auto s = store_.put_olm_session(stored, nullptr); !s.ok()) return std::nullopt;
    return plaintext;
  }
  if (type != 0) return std::nullopt;
  auto created = account_->create_inbound_session(sender_key, body);
  if (!created) return std::nullopt;
  StoredOlmSession stored{sender_key, created->session.session_id(), created->session.serialize()};
  StoredAccount account = stored_account();
  if (auto s = store_.put_olm_session(stored, &account); !s.ok()) return std::nullopt;
  return std::move(created->plaintext);
}

std::optional<std::string> CareE2ee::on_to_device(const json::Value& message) {
  if (!ready_ || json::get_string(message, "type") != "m.room.encrypted" ||
      json::get_string(message, "to_user_id") != user_id_ ||
      json::get_string(message, "to_device_id") != device_id_) {
    return std::nullopt;
  }
  const json::Value* content = json::member(message, "content");
  if (!content || json::get_string(*content, "algorithm") != kOlm) return std::nullopt;
  const std::string sender_key = json::get_string(*content, "sender_key");
  const json::Value* ciphertext = json::member(*content, "ciphertext");
  const json::Value* mine = ciphertext ? json::member(*ciphertext, account_->curve25519_key()) : nullptr;
  if (sender_key.empty() || sender_key.size() > 64 || !mine) return std::nullopt;
  const json::Value* type = json::member(*mine, "type");
  std::string body = json::get_string(*mine, "body");
  if (!type || !type->IsInt() || (type->GetInt() != 0 && type->GetInt() != 1) || body.empty() ||
      body.size() > kMaxCiphertextBytes) {
    return std::nullopt;
  }
  auto plaintext = olm_decrypt(sender_key, type->GetInt(), body);
  if (!plaintext) {
    spdlog::warn("haven-care: an Olm message from {} could not be decrypted",
                 json::get_string(message, "sender"));
    return std::nullopt;
  }
  return store_room_key(message, sender_key, *plaintext);
}

// Keeps the Megolm session of an m.room_key, when the Olm plaintext was meant for this device,
// came from the to-device sender and is for a room haven-care reads.
std::optional<std::string> CareE2ee::store_room_key(const json::Value& message,
                                                    const std::string& sender_key,
                                                    const std::string& plaintext) {
  auto d = json::parse_trusted(plaintext);
  if (!d.IsObject() || json::get_string(d, "type") != "m.room_key") return std::nullopt;
  const std::string sender = json::get_string(message, "sender");
  const json::Value* recipient_keys = json::member(d, "recipient_keys");
  if (json::get_string(d, "sender") != sender || json::get_string(d, "recipient") != user_id_ ||
      !recipient_keys || json::get_string(*recipient_keys, "ed25519") != account_->ed25519_key()) {
    spdlog::warn("haven-care: a room key from {} was not addressed to this device", sender);
    return std::nullopt;
  }
  const json::Value* content = json::member(d, "content");
  if (!content || json::get_string(*content, "algorithm") != kMegolm) return std::nullopt;
  const std::string room_id = json::get_string(*content, "room_id");
  const std::string session_id = json::get_string(*content, "session_id");
  if (room_id.empty() || !wants_room_(room_id)) return std::nullopt;
  auto session =
      crypto::olm::InboundGroupSession::from_session_key(json::get_string(*content, "session_key"));
  if (!session || session->session_id() != session_id) {
    spdlog::warn("haven-care: a bad room key from {} for {}", sender, room_id);
    return std::nullopt;
  }
  if (auto known = store_.group_session(room_id, session_id)) {
    auto old = crypto::olm::InboundGroupSession::deserialize(known->session);
    if (known->sender != sender) return std::nullopt;  // a session id is one device's
    if (old && old->first_known_index() <= session->first_known_index()) return std::nullopt;
  }
  auto s = store_.put_group_session({room_id, session_id, sender, sender_key, session->serialize()});
  if (!s.ok()) return std::nullopt;
  return room_id;
}

CareE2ee::Outcome CareE2ee::try_decrypt(const json::Value& event, json::Document* out) {
  const json::Value* content = json::member(event, "content");
  if (!content || json::get_string(*content, "algorithm") != kMegolm) return Outcome::kRefused;
  // Encrypted state is no part of the spec; a state event of this type is not read.
  if (json::member(event, "state_key")) return Outcome::kRefused;
  const std::string room_id = json::get_string(event, "room_id");
  const std::string sender = json::get_string(event, "sender");
  auto stored = store_.group_session(room_id, json::get_string(*content, "session_id"));
  if (!stored) return Outcome::kNoKey;
  auto session = crypto::olm::InboundGroupSession::deserialize(stored->session);
  std::string ciphertext = json::get_string(*content, "ciphertext");
  // A session decrypts only for the user whose device shared it.
  if (!session || stored->sender != sender || ciphertext.size() > kMaxCiphertextBytes) {
    return Outcome::kRefused;
  }
  auto decrypted = session->decrypt(ciphertext);
  if (!decrypted) return Outcome::kRefused;
  auto plain = json::parse_trusted(decrypted->plaintext);
  const json::Value* plain_content = json::member(plain, "content");
  if (!plain.IsObject() || json::get_string(plain, "room_id") != room_id || !plain_content ||
      !plain_content->IsObject() || json::get_string(plain, "type").empty()) {
    return Outcome::kRefused;
  }
  out->CopyFrom(event, out->GetAllocator());
  auto& a = out->GetAllocator();
  json::set(*out, "type", json::get_string(plain, "type"), a);
  json::Value copied(*plain_content, a);
  json::set(*out, "content", std::move(copied), a);
  return Outcome::kDecrypted;
}

std::optional<json::Document> CareE2ee::decrypt(const json::Value& event) {
  if (!ready_) return std::nullopt;
  json::Document out;
  switch (try_decrypt(event, &out)) {
    case Outcome::kDecrypted:
      return out;
    case Outcome::kNoKey:
      if (auto s = store_.park(json::get_string(event, "room_id"), json::to_string(event));
          !s.ok()) {
        spdlog::warn("haven-care: an encrypted event could not wait for its key");
      }
      return std::nullopt;
    case Outcome::kRefused:
      spdlog::warn("haven-care: event {} could not be decrypted",
                   json::get_string(event, "event_id"));
      return std::nullopt;
  }
  return std::nullopt;
}

std::vector<json::Document> CareE2ee::decrypt_parked(const std::string& room_id) {
  std::vector<json::Document> out;
  std::vector<uint64_t> done;
  for (const ParkedEvent& p : store_.parked(room_id)) {
    auto event = json::parse_trusted(p.event_json);
    json::Document decrypted;
    Outcome o = event.IsObject() ? try_decrypt(event, &decrypted) : Outcome::kRefused;
    if (o == Outcome::kNoKey) continue;
    done.push_back(p.seq);
    if (o == Outcome::kDecrypted) out.push_back(std::move(decrypted));
  }
  if (!done.empty()) {
    if (auto s = store_.unpark(room_id, done); !s.ok()) {
      spdlog::warn("haven-care: decrypted events of {} still waiting", room_id);
    }
  }
  return out;
}

void CareE2ee::forget_room(const std::string& room_id) {
  if (auto s = store_.forget_room(room_id); !s.ok()) {
    spdlog::warn("haven-care: the keys of {} could not be forgotten: {}", room_id,
                 s.error().message);
  }
}

}  // namespace haven::care
