// Cross-signing: each user's master, self-signing and user-signing keys, and the signatures
// uploaded through /keys/signatures/upload, kept apart from the keys they sign and merged
// into query results. Also the shape checks every cross-signing key upload must pass. Reads
// take a ReadTxn (any thread); writes a WriteTxn (storage writer thread).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "homeserver/base/json.h"
#include "homeserver/base/result.h"
#include "storage/store.h"

namespace haven::e2ee {

// "master", "self_signing" or "user_signing".
std::optional<std::string> get_cross_signing_key(storage::ReadTxn& txn, std::string_view user_id,
                                                 std::string_view usage);
storage::Status put_cross_signing_key(storage::WriteTxn& txn, std::string_view user_id,
                                      std::string_view usage, std::string_view json);

// The only key of a cross-signing key object: ("ed25519:<public>", "<public>" unpadded base64).
struct PublicKey {
  std::string key_id;
  std::string base64;
  std::string raw;  // 32 bytes
};
// The single ed25519 key of `key` ("keys": {"ed25519:X": "X"}), or nullopt.
std::optional<PublicKey> cross_signing_public_key(const json::Value& key);
// Same for a stored key text.
std::optional<PublicKey> cross_signing_public_key(std::string_view stored_json);

// Checks an uploaded cross-signing key: an object for `user_id` whose "usage" holds `usage`
// and whose "keys" holds exactly one ed25519 key named after itself. M_INVALID_PARAM else.
Status check_cross_signing_key(const json::Value& key, std::string_view user_id,
                               std::string_view usage);

// --- signatures ----------------------------------------------------------------------------
// target_key_id: a device id, or the unpadded base64 of a cross-signing public key.
struct StoredSignature {
  std::string signer_user;
  std::string signer_key_id;  // "ed25519:..."
  std::string signature;
};
storage::Status put_signature(storage::WriteTxn& txn, std::string_view target_user,
                              std::string_view target_key_id, const StoredSignature& sig);
std::vector<StoredSignature> signatures_of(storage::ReadTxn& txn, std::string_view target_user,
                                           std::string_view target_key_id);
storage::Status delete_signatures_of(storage::WriteTxn& txn, std::string_view target_user,
                                     std::string_view target_key_id);

// Adds the stored signatures on (target_user, target_key_id) to key["signatures"]: those made
// by the target user themself and those made by `viewer` (signatures of other users' keys are
// only for the signer to see).
void merge_signatures(storage::ReadTxn& txn, json::Value& key, json::Alloc& a,
                      std::string_view target_user, std::string_view target_key_id,
                      std::string_view viewer);

}  // namespace haven::e2ee
