// Creating accounts and logging devices in: shared by /register, /login, the shared-secret
// admin registration and `haven register-user`. Calls from the loop thread; password hashing
// runs on the worker pool, writes on the storage writer; `done` runs on the loop.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "homeserver/base/result.h"
#include "homeserver/server_context.h"
#include "storage/store.h"

namespace haven::accounts {

struct Session {
  std::string user_id;
  std::string device_id;
  std::string access_token;  // empty when login was inhibited
};

struct NewAccount {
  std::string localpart;
  std::string password;  // empty = no password (appservice users, guests)
  bool admin = false;
  bool is_guest = false;
  std::string displayname;                // default: the localpart
  std::optional<std::string> device_id;   // default: random
  std::string device_display_name;
  bool inhibit_login = false;
  // More records to write in the same transaction as the account (e.g. the care role).
  std::function<Status(storage::WriteTxn&, const std::string& user_id)> also_write;
};

// M_INVALID_USERNAME for a localpart outside the spec's grammar or a user id over 255 bytes.
Status check_localpart(std::string_view localpart, std::string_view server_name);

void create_account(ServerContext& ctx, NewAccount account,
                    std::function<void(Result<Session>)> done);

// Issues a new access token for (user, device), creating the device if it does not exist.
void login_device(ServerContext& ctx, std::string user_id, std::optional<std::string> device_id,
                  std::string device_display_name, std::function<void(Result<Session>)> done);

}  // namespace haven::accounts
