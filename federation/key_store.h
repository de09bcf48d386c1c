// Server signing keys as stored records: other servers' keys (kServerKeys), the last key
// object each server sent (kServerKeyObjects, served again by the notary), and this server's
// own key history (kOwnSigningKeys). Reads take a ReadTxn (any thread); writes a WriteTxn
// (the writer thread, inside a Store job). No rules beyond the records' shape.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/ed25519.h"
#include "federation/server_keys.h"
#include "storage/store.h"

namespace haven::federation {

std::optional<KnownKey> get_server_key(storage::ReadTxn& txn, std::string_view server_name,
                                       std::string_view key_id);

struct StoredKeyObject {
  int64_t fetched_ts = 0;
  int64_t valid_until_ts = 0;  // as published
  std::string json;            // the signed key object as received
};
std::optional<StoredKeyObject> get_key_object(storage::ReadTxn& txn, std::string_view server_name);

// Stores every key of `keys` (replacing what was stored under the same ids) and the object.
storage::Status put_server_keys(storage::WriteTxn& txn, const ServerKeys& keys, int64_t fetched_ts);

// This server's earlier keys, with when each stopped being used.
std::vector<OldOwnKey> own_old_keys(storage::ReadTxn& txn);

// Records `key` as this server's current key. A different key recorded as current before is
// kept as an old key, expired at `now_ms`: a rotated key still verifies its old events.
storage::Status record_own_key(storage::WriteTxn& txn, const crypto::SigningKey& key,
                               int64_t now_ms);

}  // namespace haven::federation
