#include "homeserver/client/account_ops.h"

#include "crypto/password.h"
#include "homeserver/accounts/account_store.h"
#include "homeserver/base/write.h"
#include "homeserver/client/keys.h"
#include "homeserver/client/room_send.h"
#include "homeserver/e2ee/device_lists.h"

namespace haven::client {

Status remove_devices(storage::WriteTxn& txn, const std::string& user_id,
                      std::optional<std::string> keep) {
  for (const accounts::Device& d : accounts::list_devices(txn, user_id)) {
    if (keep && d.device_id == *keep) continue;
    HAVEN_TRY(check(e2ee::forget_device_keys(txn, user_id, d.device_id)));
    HAVEN_TRY(check(accounts::delete_device(txn, user_id, d.device_id)));
  }
  return {};
}

void set_password(ServerContext& ctx, const std::string& user_id, const std::string& password,
                  bool logout_devices, std::optional<std::string> keep_device,
                  std::function<void(Result<bool>)> done) {
  ctx.workers->run<std::optional<std::string>>(
      *ctx.loop, [password] { return crypto::hash_password(password); },
      [&ctx, user_id, logout_devices, keep_device, done](std::optional<std::string> hash) {
        if (!hash) return done(Error::unknown("Could not hash the password"));
        write<bool>(
            *ctx.store,
            [user_id, h = *hash, logout_devices, keep_device](storage::WriteTxn& txn)
                -> Result<bool> {
              auto u = accounts::get_user(txn, user_id);
              if (!u) return Error::not_found("User not found");
              u->password_hash = h;
              HAVEN_TRY(check(accounts::put_user(txn, *u)));
              if (logout_devices) HAVEN_TRY(remove_devices(txn, user_id, keep_device));
              return true;
            },
            [&ctx, user_id, logout_devices, done](Result<bool> r) {
              if (r.ok() && logout_devices) notify_device_list_changed(ctx, user_id);
              done(std::move(r));
            });
      });
}

void deactivate_account(ServerContext& ctx, const std::string& user_id,
                        std::function<void(Result<bool>)> done) {
  write<bool>(
      *ctx.store,
      [user_id](storage::WriteTxn& txn) -> Result<bool> {
        auto u = accounts::get_user(txn, user_id);
        if (!u) return Error::not_found("User not found");
        u->deactivated = true;
        u->password_hash.clear();
        HAVEN_TRY(check(accounts::put_user(txn, *u)));
        HAVEN_TRY(remove_devices(txn, user_id, std::nullopt));
        return true;
      },
      [&ctx, user_id, done](Result<bool> r) {
        if (r.ok()) {
          notify_device_list_changed(ctx, user_id);
          leave_all_rooms(ctx, user_id);
        }
        done(std::move(r));
      });
}

}  // namespace haven::client
