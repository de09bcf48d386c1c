// haven-care's device in end-to-end encrypted rooms. Its user is a member of every temporary
// conversation; with a device of its own (made through MSC4190, keys published like any client's)
// the members' clients share their Megolm room keys with it, Olm-encrypted to-device messages
// that haven forwards in the service's transactions (MSC2409). haven-care reads the encrypted
// events of its temporary conversations with them for two things only: legacy call signals
// (m.call.*), which clients encrypt, and the attachments an event names, which haven is told
// to delete with the room (R22). It keeps no plaintext. Keys live in E2eeStore and are forgotten
// with the room. It never sends encrypted messages. All calls on haven-care's worker thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "appservices/care/care_config.h"
#include "appservices/care/e2ee_store.h"
#include "appservices/care/haven_api.h"
#include "homeserver/base/json.h"

namespace haven::crypto {
class SigningKey;
}
namespace haven::crypto::olm {
class Account;
struct OneTimeKey;
}

namespace haven::care {

// The one-time keys haven-care keeps published: topped up to kWanted when fewer than half are left.
inline constexpr size_t kWantedOneTimeKeys = 50;

class CareE2ee {
 public:
  // `wants_room`: whether haven-care accepts room keys for this room (its temporary ones).
  CareE2ee(const CareConfig& config, HavenApi& haven, E2eeStore& store,
           std::function<bool(const std::string& room_id)> wants_room);
  ~CareE2ee();

  // The device exists in haven, its identity keys are published and its one-time and fallback
  // keys are topped up. Made once; after that the same device and keys are used.
  // Until it succeeds (haven may start after haven-care), the other calls do nothing.
  Status set_up();
  bool ready() const { return ready_.load(); }  // any thread
  const std::string& user_id() const { return user_id_; }
  const std::string& device_id() const;

  // A to-device message from a transaction; an Olm-encrypted m.room_key for haven-care's device
  // is stored. Returns the room whose key arrived, if any.
  std::optional<std::string> on_to_device(const json::Value& message);
  // MSC3202 counts of a transaction: tops up the one-time keys and the fallback key.
  void on_key_counts(const json::Value& transaction);

  // An m.room.encrypted event: the event with its plaintext type and content, or nullopt. An
  // event whose key has not come yet waits (parked) until on_to_device brings it.
  std::optional<json::Document> decrypt(const json::Value& event);
  // The waiting events of the room that its keys now decrypt (they stop waiting).
  std::vector<json::Document> decrypt_parked(const std::string& room_id);
  // Forgets the room's keys and waiting events (its conversation was deleted).
  void forget_room(const std::string& room_id);

 private:
  enum class Outcome { kDecrypted, kNoKey, kRefused };
  Outcome try_decrypt(const json::Value& event, json::Document* out);
  Status load_or_make_account();
  Status ensure_device();
  json::Document device_keys() const;  // signed by the device
  Status publish_device_keys();
  Status publish_cross_signing();
  Status top_up(size_t published_count, bool fallback_unused);
  json::Document signed_key_upload(const std::vector<crypto::olm::OneTimeKey>& one_time,
                                   const std::optional<crypto::olm::OneTimeKey>& fallback) const;
  Status save_account();
  StoredAccount stored_account() const;
  std::optional<std::string> olm_decrypt(const std::string& sender_key, int type,
                                         const std::string& body);
  std::optional<std::string> store_room_key(const json::Value& message, const std::string& sender_key,
                                            const std::string& plaintext);

  const CareConfig& config_;
  HavenApi& haven_;
  E2eeStore& store_;
  std::function<bool(const std::string&)> wants_room_;
  std::string user_id_;
  std::string device_id_;
  std::unique_ptr<crypto::olm::Account> account_;
  // Its user's cross-signing keys: the device is signed by its owner, as clients that share
  // keys only with cross-signed devices (MSC4153) require.
  std::unique_ptr<crypto::SigningKey> master_key_;
  std::unique_ptr<crypto::SigningKey> self_signing_key_;
  std::atomic<bool> ready_{false};
};

}  // namespace haven::care
