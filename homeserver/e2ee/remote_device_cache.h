// The cache of other servers' users' device lists (kRemoteDeviceLists): filled from their
// server's GET /user/devices answer and kept fresh by the m.device_list_update and
// m.signing_key_update EDUs it sends; an update that does not follow the cached stream_id
// (a lost EDU) makes the entry stale until the next resync. Reads take a ReadTxn (any
// thread); writes a WriteTxn (storage writer thread).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "homeserver/base/json.h"
#include "storage/store.h"

namespace haven::e2ee {

// The fresh cached list of `user_id`: {"stream_id", "devices": {device_id: device keys or {}},
// "master_key"?, "self_signing_key"?}; nullopt when absent or stale.
std::optional<json::Document> cached_device_list(storage::ReadTxn& txn, std::string_view user_id);

// Replaces the entry with a /user/devices answer (already checked to be about `user_id`).
storage::Status cache_device_list(storage::WriteTxn& txn, std::string_view user_id,
                                  const json::Value& answer);

enum class UpdateOutcome { kApplied, kNeedsResync };
// Applies an m.device_list_update EDU's content to the entry. kNeedsResync (and the entry
// marked stale) when there is no entry or prev_id does not name its stream_id.
UpdateOutcome apply_device_list_update(storage::WriteTxn& txn, std::string_view user_id,
                                       const json::Value& content, storage::Status* status);
// Applies an m.signing_key_update EDU's content (master_key, self_signing_key) to the entry.
storage::Status apply_signing_key_update(storage::WriteTxn& txn, std::string_view user_id,
                                         const json::Value& content);

}  // namespace haven::e2ee
