// Email validation sessions (POST /account/3pid/email/requestToken): which address a client
// wants to add, the secret token mailed to it, and whether it was confirmed. Stored in
// kThreepidSessions under "s" \0 sid, with "c" \0 client_secret \0 email -> sid so a repeated
// request finds its session. Reads take a ReadTxn (any thread); writes a WriteTxn (writer
// thread, inside a Store job).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "storage/store.h"

namespace haven::accounts {

// A session can be confirmed and used this long after it was requested.
inline constexpr int64_t kThreepidSessionLifetimeMs = 24 * 60 * 60 * 1000;

struct ThreepidSession {
  std::string sid;
  std::string client_secret;
  std::string email;
  std::string token;  // what the mail carries
  int64_t send_attempt = 0;
  int64_t created_ms = 0;
  int64_t validated_ms = 0;  // 0 = not confirmed yet
};

std::optional<ThreepidSession> get_threepid_session(storage::ReadTxn& txn, std::string_view sid);
std::optional<ThreepidSession> find_threepid_session(storage::ReadTxn& txn,
                                                     std::string_view client_secret,
                                                     std::string_view email);
storage::Status put_threepid_session(storage::WriteTxn& txn, const ThreepidSession& session);
storage::Status delete_threepid_session(storage::WriteTxn& txn, const ThreepidSession& session);

}  // namespace haven::accounts
