#include "homeserver/accounts/threepid_sessions.h"

#include "homeserver/base/json.h"
#include "storage/keys.h"

namespace haven::accounts {

using storage::KeyBuilder;
using storage::Table;

namespace {

std::string session_key(std::string_view sid) { return KeyBuilder().str("s").tail(sid).take(); }

std::string secret_key(std::string_view client_secret, std::string_view email) {
  return KeyBuilder().str("c").str(client_secret).tail(email).take();
}

std::string encode(const ThreepidSession& s) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "sid", s.sid, a);
  json::set(d, "client_secret", s.client_secret, a);
  json::set(d, "email", s.email, a);
  json::set(d, "token", s.token, a);
  json::set(d, "send_attempt", s.send_attempt, a);
  json::set(d, "created_ms", s.created_ms, a);
  json::set(d, "validated_ms", s.validated_ms, a);
  return json::to_string(d);
}

}  // namespace

std::optional<ThreepidSession> get_threepid_session(storage::ReadTxn& txn, std::string_view sid) {
  auto v = txn.get(Table::kThreepidSessions, session_key(sid));
  if (!v) return std::nullopt;
  json::Document d = json::parse_trusted(*v);
  if (!d.IsObject()) return std::nullopt;
  ThreepidSession s;
  s.sid = json::get_string(d, "sid");
  s.client_secret = json::get_string(d, "client_secret");
  s.email = json::get_string(d, "email");
  s.token = json::get_string(d, "token");
  s.send_attempt = json::get_int(d, "send_attempt");
  s.created_ms = json::get_int(d, "created_ms");
  s.validated_ms = json::get_int(d, "validated_ms");
  return s;
}

std::optional<ThreepidSession> find_threepid_session(storage::ReadTxn& txn,
                                                     std::string_view client_secret,
                                                     std::string_view email) {
  auto sid = txn.get(Table::kThreepidSessions, secret_key(client_secret, email));
  if (!sid) return std::nullopt;
  return get_threepid_session(txn, std::string(*sid));
}

storage::Status put_threepid_session(storage::WriteTxn& txn, const ThreepidSession& session) {
  auto s = txn.put(Table::kThreepidSessions, secret_key(session.client_secret, session.email),
                   session.sid);
  if (!s.ok()) return s;
  return txn.put(Table::kThreepidSessions, session_key(session.sid), encode(session));
}

storage::Status delete_threepid_session(storage::WriteTxn& txn, const ThreepidSession& session) {
  auto s = txn.del(Table::kThreepidSessions, secret_key(session.client_secret, session.email));
  if (!s.ok()) return s;
  return txn.del(Table::kThreepidSessions, session_key(session.sid));
}

}  // namespace haven::accounts
