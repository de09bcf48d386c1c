// New-message emails (R4-R6): marks a notice pending when a message arrives that a local
// member's push rules notify for, sends it once the member is idle and their frequency allows
// (schedule.h), and drives the durable outbox through the SMTP sender with retries. Deadlines
// are Loop::at timers, so advancing the test clock brings them forward.
// Built only when email is configured. Loop thread only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "homeserver/email/email_store.h"
#include "homeserver/email/smtp_sender.h"
#include "homeserver/rooms/event.h"
#include "homeserver/server_context.h"

namespace haven::email {

class EmailNotifier {
 public:
  explicit EmailNotifier(ServerContext& ctx);
  EmailNotifier(const EmailNotifier&) = delete;
  EmailNotifier& operator=(const EmailNotifier&) = delete;

  // Picks up what the last run left: pending notices and queued mails.
  void start();
  // A persisted event (after its sender got the answer).
  void on_event(const rooms::Event& event);
  // A mail was put in the outbox: send it when due.
  void outbox_changed();
  // The user's address, frequency or read state may have changed: look again.
  void recheck(const std::string& user_id);

 private:
  struct Plan;  // what evaluate() decided
  void evaluate(const std::string& user_id);
  void at(const std::string& user_id, int64_t when_ms);
  void queue_notice(const std::string& user_id, const Plan& plan);
  void clear_pending(const std::string& user_id, int64_t seen_pending_since);
  void pump();
  void sent(uint64_t mail_id, std::string error);
  // An outbox mail no longer worth sending: a notice whose messages were read meanwhile, or
  // one too old.
  bool obsolete(storage::ReadTxn& txn, const OutgoingMail& mail, int64_t now);

  ServerContext& ctx_;
  int64_t idle_ms_;
  SmtpSender sender_;
  std::map<std::string, std::unique_ptr<Loop::Timer>> checks_;  // by user
  std::unique_ptr<Loop::Timer> pump_timer_;
  std::optional<uint64_t> in_flight_;  // one mail at a time, oldest first
};

}  // namespace haven::email
