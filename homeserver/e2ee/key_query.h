// The keys of local users as a key query shows them, for the client API's /keys/query and the
// federation's /user/keys/query and /user/devices alike. Reads only; any thread, with a ReadTxn.
#pragma once

#include <set>
#include <string>
#include <string_view>

#include "homeserver/base/json.h"
#include "storage/store.h"

namespace haven::e2ee {

// {device_id: signed device keys} of the local `user_id` (only `devices` unless it is empty),
// each with the signatures `viewer` may see and unsigned.device_display_name. `viewer` is ""
// for another server: it sees the user's own signatures only.
json::Value local_device_keys(storage::ReadTxn& txn, const std::string& user_id,
                              const std::set<std::string>& devices, std::string_view viewer,
                              json::Alloc& a);

// Adds the local user's cross-signing keys to `response` under "master_keys" and
// "self_signing_keys" (and "user_signing_keys" when the viewer is the user), keyed by user id.
void add_local_cross_signing_keys(storage::ReadTxn& txn, json::Value& response,
                                  const std::string& user_id, std::string_view viewer,
                                  json::Alloc& a);

}  // namespace haven::e2ee
