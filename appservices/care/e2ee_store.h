// haven-care's end-to-end encryption state, in its own LMDB (kCareE2ee): its device's Olm
// account, the Olm sessions other devices opened with it, the Megolm room keys they shared for
// its temporary conversations, and the encrypted events that wait for their room key. Values
// are sealed with at-rest keys (storage/sealed.h): a room's with the room's key, which
// forget_room destroys. Reads from any thread; writes block until durable (worker thread only).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "homeserver/base/result.h"
#include "storage/store.h"

namespace haven::care {

struct StoredAccount {
  std::string device_id;
  std::string account;  // crypto::olm::Account::serialize()
  // The user's cross-signing master and self-signing keys: two 32-byte Ed25519 seeds.
  std::string master_seed;
  std::string self_signing_seed;
};

struct StoredOlmSession {
  std::string sender_key;  // the other device's Curve25519 identity key (base64)
  std::string session_id;
  std::string session;  // crypto::olm::Session::serialize()
};

// A Megolm session a device shared with haven-care's device (an m.room_key), for one room.
struct StoredGroupSession {
  std::string room_id;
  std::string session_id;
  std::string sender;      // the user whose device shared it: the only sender it decrypts for
  std::string sender_key;  // that device's Curve25519 identity key
  std::string session;     // crypto::olm::InboundGroupSession::serialize()
};

// An encrypted room event that came before its room key.
struct ParkedEvent {
  uint64_t seq = 0;
  std::string event_json;
};

class E2eeStore {
 public:
  explicit E2eeStore(storage::Store& store) : store_(store) {}

  std::optional<StoredAccount> account() const;
  Status put_account(const StoredAccount& account);

  std::vector<StoredOlmSession> olm_sessions(const std::string& sender_key) const;
  // The session and the account in one commit: a one-time key a new session used is gone from
  // the account exactly when the session is stored.
  Status put_olm_session(const StoredOlmSession& session, const StoredAccount* account);

  std::optional<StoredGroupSession> group_session(const std::string& room_id,
                                                  const std::string& session_id) const;
  Status put_group_session(const StoredGroupSession& session);

  // At most kMaxParkedPerRoom events wait per room; beyond that the oldest go.
  Status park(const std::string& room_id, const std::string& event_json);
  std::vector<ParkedEvent> parked(const std::string& room_id) const;
  Status unpark(const std::string& room_id, const std::vector<uint64_t>& seqs);

  // The room's keys and waiting events (its conversation was deleted, R22).
  Status forget_room(const std::string& room_id);

  static constexpr size_t kMaxParkedPerRoom = 1000;

 private:
  storage::Store& store_;
};

}  // namespace haven::care
