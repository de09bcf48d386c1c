#include "homeserver/accounts/registration_tokens.h"

#include "homeserver/base/json.h"

namespace haven::accounts {

namespace {
RegistrationToken decode(const std::string& token, std::string_view text) {
  auto d = json::parse_trusted(text);
  RegistrationToken t;
  t.token = token;
  if (d.IsObject()) {
    auto uses = d.FindMember("uses_allowed");
    if (uses != d.MemberEnd() && uses->value.IsInt64()) t.uses_allowed = uses->value.GetInt64();
    auto exp = d.FindMember("expiry_time");
    if (exp != d.MemberEnd() && exp->value.IsInt64()) t.expiry_time = exp->value.GetInt64();
  }
  t.pending = json::get_int(d, "pending");
  t.completed = json::get_int(d, "completed");
  return t;
}
}  // namespace

std::optional<RegistrationToken> get_registration_token(storage::ReadTxn& txn,
                                                        const std::string& token) {
  auto v = txn.get(storage::Table::kRegistrationTokens, token);
  if (!v) return std::nullopt;
  return decode(token, *v);
}

std::vector<RegistrationToken> list_registration_tokens(storage::ReadTxn& txn) {
  std::vector<RegistrationToken> out;
  txn.scan(storage::Table::kRegistrationTokens, {}, {}, storage::Direction::kForward,
           [&](std::string_view k, std::string_view v) {
             out.push_back(decode(std::string(k), v));
             return true;
           });
  return out;
}

bool registration_token_usable(const RegistrationToken& t, int64_t now_ms) {
  if (t.expiry_time && *t.expiry_time < now_ms) return false;
  return !t.uses_allowed || t.completed + t.pending < *t.uses_allowed;
}

storage::Status put_registration_token(storage::WriteTxn& txn, const RegistrationToken& t) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  d.AddMember("uses_allowed", t.uses_allowed ? json::Value(*t.uses_allowed) : json::Value(), a);
  d.AddMember("expiry_time", t.expiry_time ? json::Value(*t.expiry_time) : json::Value(), a);
  json::set(d, "pending", t.pending, a);
  json::set(d, "completed", t.completed, a);
  return txn.put(storage::Table::kRegistrationTokens, t.token, json::to_string(d));
}

storage::Status delete_registration_token(storage::WriteTxn& txn, const std::string& token) {
  return txn.del(storage::Table::kRegistrationTokens, token);
}

}  // namespace haven::accounts
