// Account changes shared by the Client-Server API (account.cpp) and the admin API
// (admin_users.cpp): logging devices out with their E2EE keys, setting a password,
// deactivating, carrying a profile into the user's rooms. Loop thread only (the jobs they
// queue run on the storage writer, hashing on the worker pool; `done` runs on the loop).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "homeserver/base/result.h"
#include "homeserver/server_context.h"
#include "storage/store.h"

namespace haven::client {

// Inside a write job: deletes the user's devices (all, or all but `keep`) with their access
// tokens and E2EE keys, marking the device list changed.
Status remove_devices(storage::WriteTxn& txn, const std::string& user_id,
                      std::optional<std::string> keep);

// Hashes `password` off the loop and stores it; with `logout_devices`, also logs out every
// device but `keep_device`. M_NOT_FOUND when there is no such user.
void set_password(ServerContext& ctx, const std::string& user_id, const std::string& password,
                  bool logout_devices, std::optional<std::string> keep_device,
                  std::function<void(Result<bool>)> done);

// Marks the account deactivated, clears its password, logs out every device (removing their
// E2EE keys), and once that is durable leaves every room the user is in. M_NOT_FOUND when
// there is no such user.
void deactivate_account(ServerContext& ctx, const std::string& user_id,
                        std::function<void(Result<bool>)> done);

// Sends the user's current profile into every room they are joined to (profile.cpp), then
// calls `done`.
void propagate_profile(ServerContext& ctx, const std::string& user_id, std::function<void()> done);

}  // namespace haven::client
