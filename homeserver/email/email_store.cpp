#include "homeserver/email/email_store.h"

#include "homeserver/base/json.h"
#include "storage/keys.h"

namespace haven::email {

using storage::Table;

namespace {

constexpr std::string_view kOutboxCounter = "email_outbox";

std::string encode_state(const NoticeState& s) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "pending_since_ms", s.pending_since_ms, a);
  json::set(d, "notified_pos", static_cast<int64_t>(s.notified_pos), a);
  json::set(d, "last_sent_ms", s.last_sent_ms, a);
  return json::to_string(d);
}

NoticeState decode_state(std::string_view text) {
  json::Document d = json::parse_trusted(text);
  NoticeState s;
  if (!d.IsObject()) return s;
  s.pending_since_ms = json::get_int(d, "pending_since_ms");
  s.notified_pos = static_cast<uint64_t>(json::get_int(d, "notified_pos"));
  s.last_sent_ms = json::get_int(d, "last_sent_ms");
  return s;
}

std::string encode_mail(const OutgoingMail& m) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "kind", m.kind == MailKind::kNotice ? "notice" : "validation", a);
  json::set(d, "user_id", m.user_id, a);
  json::set(d, "to", m.to, a);
  json::set(d, "message", m.message, a);
  json::set(d, "attempts", static_cast<int64_t>(m.attempts), a);
  json::set(d, "queued_ms", m.queued_ms, a);
  json::set(d, "next_attempt_ms", m.next_attempt_ms, a);
  return json::to_string(d);
}

std::optional<OutgoingMail> decode_mail(std::string_view key, std::string_view text) {
  auto id = storage::decode_u64(key);
  json::Document d = json::parse_trusted(text);
  if (!id || !d.IsObject()) return std::nullopt;
  OutgoingMail m;
  m.id = *id;
  m.kind = json::get_string(d, "kind") == "validation" ? MailKind::kValidation : MailKind::kNotice;
  m.user_id = json::get_string(d, "user_id");
  m.to = json::get_string(d, "to");
  m.message = json::get_string(d, "message");
  m.attempts = static_cast<int>(json::get_int(d, "attempts"));
  m.queued_ms = json::get_int(d, "queued_ms");
  m.next_attempt_ms = json::get_int(d, "next_attempt_ms");
  return m;
}

}  // namespace

std::optional<NoticeState> get_notice_state(storage::ReadTxn& txn, std::string_view user_id) {
  auto v = txn.get(Table::kEmailNotices, user_id);
  if (!v) return std::nullopt;
  return decode_state(*v);
}

storage::Status put_notice_state(storage::WriteTxn& txn, std::string_view user_id,
                                 const NoticeState& state) {
  return txn.put(Table::kEmailNotices, user_id, encode_state(state));
}

std::vector<std::pair<std::string, NoticeState>> pending_notices(storage::ReadTxn& txn) {
  std::vector<std::pair<std::string, NoticeState>> out;
  txn.scan(Table::kEmailNotices, "", "", storage::Direction::kForward,
           [&](std::string_view user_id, std::string_view value) {
             NoticeState s = decode_state(value);
             if (s.pending_since_ms != 0) out.emplace_back(std::string(user_id), s);
             return true;
           });
  return out;
}

storage::Status queue_mail(storage::WriteTxn& txn, OutgoingMail& mail) {
  mail.id = txn.next_counter(kOutboxCounter);
  return put_mail(txn, mail);
}

storage::Status put_mail(storage::WriteTxn& txn, const OutgoingMail& mail) {
  return txn.put(Table::kEmailOutbox, storage::encode_u64(mail.id), encode_mail(mail));
}

storage::Status delete_mail(storage::WriteTxn& txn, uint64_t id) {
  return txn.del(Table::kEmailOutbox, storage::encode_u64(id));
}

std::optional<OutgoingMail> get_mail(storage::ReadTxn& txn, uint64_t id) {
  std::string key = storage::encode_u64(id);
  auto v = txn.get(Table::kEmailOutbox, key);
  if (!v) return std::nullopt;
  return decode_mail(key, *v);
}

std::vector<OutgoingMail> queued_mails(storage::ReadTxn& txn, size_t limit) {
  std::vector<OutgoingMail> out;
  txn.scan(Table::kEmailOutbox, "", "", storage::Direction::kForward,
           [&](std::string_view key, std::string_view value) {
             if (auto m = decode_mail(key, value)) out.push_back(std::move(*m));
             return out.size() < limit;
           });
  return out;
}

size_t queued_mail_count(storage::ReadTxn& txn, size_t stop_at) {
  size_t n = 0;
  txn.scan(Table::kEmailOutbox, "", "", storage::Direction::kForward,
           [&](std::string_view, std::string_view) { return ++n < stop_at; });
  return n;
}

}  // namespace haven::email
