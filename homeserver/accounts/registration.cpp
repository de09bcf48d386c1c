#include "homeserver/accounts/registration.h"

#include "crypto/password.h"
#include "crypto/random.h"
#include "homeserver/accounts/account_store.h"
#include "homeserver/base/write.h"

namespace haven::accounts {

namespace {
bool localpart_char_ok(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '=' ||
         c == '-' || c == '/' || c == '+';
}

int64_t token_expiry(const ServerContext& ctx) {
  return ctx.config.access_token_lifetime_ms > 0 ? now_ms() + ctx.config.access_token_lifetime_ms
                                                 : 0;
}

Result<Session> write_device(storage::WriteTxn& txn, const std::string& user_id,
                             const std::string& device_id, const std::string& display_name,
                             int64_t expires_ts) {
  Device dev;
  if (auto old = get_device(txn, user_id, device_id); old) dev = *old;
  dev.user_id = user_id;
  dev.device_id = device_id;
  if (!display_name.empty() || dev.display_name.empty()) dev.display_name = display_name;
  dev.last_seen_ts = now_ms();
  std::string token = "hvn_" + crypto::random_token(40);
  HAVEN_TRY(check(put_device_with_token(txn, dev, token, expires_ts)));
  return Session{user_id, device_id, token};
}
}  // namespace

Status check_localpart(std::string_view localpart, std::string_view server_name) {
  if (localpart.empty()) return Error::with(400, "M_INVALID_USERNAME", "User ID cannot be empty");
  for (char c : localpart) {
    if (!localpart_char_ok(c)) {
      return Error::with(400, "M_INVALID_USERNAME",
                         "User ID can only contain characters a-z, 0-9, or '=_-./+'");
    }
  }
  if (localpart.size() + server_name.size() + 2 > 255) {
    return Error::with(400, "M_INVALID_USERNAME", "User ID is too long");
  }
  return {};
}

void create_account(ServerContext& ctx, NewAccount account,
                    std::function<void(Result<Session>)> done) {
  if (auto s = check_localpart(account.localpart, ctx.server_name); !s.ok()) {
    done(std::move(s).error());
    return;
  }
  auto persist = [&ctx, account, done](std::string password_hash) {
    User user;
    user.user_id = "@" + account.localpart + ":" + ctx.server_name;
    user.password_hash = std::move(password_hash);
    user.admin = account.admin;
    user.is_guest = account.is_guest;
    user.displayname = account.displayname.empty() ? account.localpart : account.displayname;
    user.creation_ts = now_ms();
    std::string device_id = account.device_id.value_or(crypto::random_token(10));
    int64_t expires = token_expiry(ctx);
    write<Session>(
        *ctx.store,
        [user, account, device_id, expires](storage::WriteTxn& txn) -> Result<Session> {
          if (localpart_taken(txn, account.localpart)) {
            return Error::with(400, "M_USER_IN_USE", "User ID already taken.");
          }
          HAVEN_TRY(check(put_user(txn, user)));
          if (account.also_write) HAVEN_TRY(account.also_write(txn, user.user_id));
          if (account.inhibit_login) return Session{user.user_id, "", ""};
          return write_device(txn, user.user_id, device_id, account.device_display_name, expires);
        },
        done);
  };
  if (account.password.empty()) {
    persist("");
    return;
  }
  ctx.workers->run<std::optional<std::string>>(
      *ctx.loop, [pw = account.password] { return crypto::hash_password(pw); },
      [persist, done](std::optional<std::string> hash) {
        if (!hash) {
          done(Error::unknown("Could not hash the password"));
          return;
        }
        persist(std::move(*hash));
      });
}

void login_device(ServerContext& ctx, std::string user_id, std::optional<std::string> device_id,
                  std::string device_display_name, std::function<void(Result<Session>)> done) {
  std::string dev = device_id.value_or(crypto::random_token(10));
  int64_t expires = token_expiry(ctx);
  write<Session>(
      *ctx.store,
      [user_id, dev, device_display_name, expires](storage::WriteTxn& txn) {
        return write_device(txn, user_id, dev, device_display_name, expires);
      },
      std::move(done));
}

}  // namespace haven::accounts
