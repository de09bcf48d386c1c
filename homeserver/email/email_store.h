// The stored side of emails: each user's notice state (kEmailNotices) and the outbox of mails
// not yet accepted by the SMTP server (kEmailOutbox), so neither a restart nor a mail server
// that is down loses a notice. Reads take a ReadTxn (any thread); writes a WriteTxn (writer
// thread, inside a Store job).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/store.h"

namespace haven::email {

struct NoticeState {
  // When the oldest message not yet covered by a notice arrived; 0 = nothing pending.
  int64_t pending_since_ms = 0;
  // Events up to this stream position are covered by a notice already sent (or queued):
  // never two notices for the same unread message.
  uint64_t notified_pos = 0;
  int64_t last_sent_ms = 0;
};

std::optional<NoticeState> get_notice_state(storage::ReadTxn& txn, std::string_view user_id);
storage::Status put_notice_state(storage::WriteTxn& txn, std::string_view user_id,
                                 const NoticeState& state);
// Every user with a notice pending, with their state.
std::vector<std::pair<std::string, NoticeState>> pending_notices(storage::ReadTxn& txn);

enum class MailKind { kNotice, kValidation };

struct OutgoingMail {
  uint64_t id = 0;
  MailKind kind = MailKind::kNotice;
  std::string user_id;  // whose notice (kNotice) or who asked (kValidation)
  std::string to;
  std::string message;  // the whole RFC 5322 message
  int attempts = 0;
  int64_t queued_ms = 0;
  int64_t next_attempt_ms = 0;
};

// Gives `mail` the next id and stores it.
storage::Status queue_mail(storage::WriteTxn& txn, OutgoingMail& mail);
storage::Status put_mail(storage::WriteTxn& txn, const OutgoingMail& mail);
storage::Status delete_mail(storage::WriteTxn& txn, uint64_t id);
std::optional<OutgoingMail> get_mail(storage::ReadTxn& txn, uint64_t id);
// Every queued mail, oldest first, at most `limit`.
std::vector<OutgoingMail> queued_mails(storage::ReadTxn& txn, size_t limit);
size_t queued_mail_count(storage::ReadTxn& txn, size_t stop_at);

}  // namespace haven::email
