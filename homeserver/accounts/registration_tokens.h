// Registration tokens (spec: m.login.registration_token; Synapse's admin API shape): records
// of how often a token may be used and until when. Reads on a ReadTxn (any thread); writes on
// a WriteTxn (writer thread).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/store.h"

namespace haven::accounts {

struct RegistrationToken {
  std::string token;
  std::optional<int64_t> uses_allowed;  // nullopt = unlimited
  int64_t pending = 0;
  int64_t completed = 0;
  std::optional<int64_t> expiry_time;   // ms since the epoch; nullopt = never
};

std::optional<RegistrationToken> get_registration_token(storage::ReadTxn& txn,
                                                        const std::string& token);
std::vector<RegistrationToken> list_registration_tokens(storage::ReadTxn& txn);
// True when the token exists, has not expired and has uses left.
bool registration_token_usable(const RegistrationToken& t, int64_t now_ms);
storage::Status put_registration_token(storage::WriteTxn& txn, const RegistrationToken& t);
storage::Status delete_registration_token(storage::WriteTxn& txn, const std::string& token);

}  // namespace haven::accounts
