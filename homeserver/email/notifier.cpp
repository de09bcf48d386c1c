#include "homeserver/email/notifier.h"

#include <spdlog/spdlog.h>

#include <limits>
#include <vector>

#include "crypto/random.h"
#include "homeserver/accounts/account_store.h"
#include "homeserver/base/write.h"
#include "homeserver/email/mail_message.h"
#include "homeserver/email/schedule.h"
#include "homeserver/email/settings.h"
#include "homeserver/email/unread_summary.h"
#include "homeserver/push/evaluator.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/ids.h"
#include "homeserver/sync/streams.h"

namespace haven::email {

namespace {

constexpr size_t kPumpBatch = 100;
constexpr size_t kMaxOutbox = 10'000;

// Whether `user_id` can get notices at all: a local, active account with an address and a
// frequency other than off.
bool wants_notices(storage::ReadTxn& txn, const std::string& user_id) {
  auto user = accounts::get_user(txn, user_id);
  if (!user || user->deactivated || user->email.empty()) return false;
  return frequency_of(txn, user_id) != Frequency::kOff;
}

std::string message_id_for(const std::string& from) {
  return crypto::random_token(24) + from.substr(from.find('@'));
}

}  // namespace

struct EmailNotifier::Plan {
  NoticeState seen;  // the state the decision was made on
  std::string to;
  std::string message;
  uint64_t upto_pos = 0;
};

EmailNotifier::EmailNotifier(ServerContext& ctx)
    : ctx_(ctx),
      idle_ms_(int64_t{ctx.config.email.idle_minutes} * 60 * 1000),
      sender_(*ctx.loop, ctx.config.email,
              [this](uint64_t id, std::string error) { sent(id, std::move(error)); }) {}

void EmailNotifier::start() {
  auto txn = ctx_.store->begin_read();
  if (!txn) return;
  for (const auto& [user_id, state] : pending_notices(*txn)) evaluate(user_id);
  txn.reset();
  pump();
}

void EmailNotifier::on_event(const rooms::Event& event) {
  if (event.is_state()) return;  // notices are about messages
  std::vector<std::string> recipients;
  {
    auto txn = ctx_.store->begin_read();
    if (!txn) return;
    for (const auto& [user_id, membership] : rooms::members_of_room(*txn, event.room_id())) {
      if (membership != "join" || user_id == event.sender()) continue;
      if (rooms::server_name_of(user_id) != ctx_.server_name) continue;
      if (!wants_notices(*txn, user_id)) continue;
      if (!push::evaluate_for_user(*txn, event.room_id(), user_id, event).notify) continue;
      auto state = get_notice_state(*txn, user_id);
      if (state && state->pending_since_ms != 0) continue;  // its timer runs already
      recipients.push_back(user_id);
    }
  }
  if (recipients.empty()) return;
  write<bool>(
      *ctx_.store,
      [recipients, now = now_ms()](storage::WriteTxn& txn) -> Result<bool> {
        for (const std::string& user_id : recipients) {
          NoticeState state = get_notice_state(txn, user_id).value_or(NoticeState{});
          if (state.pending_since_ms != 0) continue;
          state.pending_since_ms = now;
          HAVEN_TRY(check(put_notice_state(txn, user_id, state)));
        }
        return true;
      },
      [this, recipients](Result<bool> r) {
        if (!r.ok())
          return spdlog::warn("email: cannot record pending notices: {}", r.error().message);
        for (const std::string& user_id : recipients) evaluate(user_id);
      });
}

void EmailNotifier::recheck(const std::string& user_id) { evaluate(user_id); }

void EmailNotifier::at(const std::string& user_id, int64_t when_ms) {
  checks_[user_id] = ctx_.loop->at(when_ms, [this, user_id] {
    auto timer = std::move(checks_[user_id]);  // destroyed when this callback returns
    checks_.erase(user_id);
    evaluate(user_id);
  });
}

void EmailNotifier::evaluate(const std::string& user_id) {
  auto txn = ctx_.store->begin_read();
  if (!txn) return;
  auto state = get_notice_state(*txn, user_id);
  if (!state || state->pending_since_ms == 0) return;
  auto user = accounts::get_user(*txn, user_id);
  Frequency frequency = frequency_of(*txn, user_id);
  if (!user || user->deactivated || user->email.empty() || frequency == Frequency::kOff) {
    return clear_pending(user_id, state->pending_since_ms);
  }
  auto presence = streams::get_presence(*txn, user_id);
  auto due = notice_due_ms(frequency, state->pending_since_ms,
                           presence ? presence->last_active_ts : 0, idle_ms_);
  if (!due) return clear_pending(user_id, state->pending_since_ms);
  if (*due > now_ms()) return at(user_id, *due);
  UnreadSummary unread = summarize_unread(*txn, user_id, state->notified_pos);
  if (!unread.new_since_notified) return clear_pending(user_id, state->pending_since_ms);
  if (queued_mail_count(*txn, kMaxOutbox) >= kMaxOutbox) {
    spdlog::warn("email: outbox full; the notice for {} waits", user_id);
    return at(user_id, now_ms() + retry_delay_ms(1));
  }
  const conf::Email& settings = ctx_.config.email;
  Plan plan;
  plan.seen = *state;
  plan.to = user->email;
  plan.upto_pos = rooms::current_events_pos(*txn);
  MailEnvelope envelope{settings.from, user->email, notice_subject(), now_ms(),
                        message_id_for(settings.from)};
  plan.message =
      compose_message(envelope, notice_body(unread.conversations, settings.client_base_url));
  txn.reset();
  queue_notice(user_id, plan);
}

void EmailNotifier::queue_notice(const std::string& user_id, const Plan& plan) {
  write<bool>(
      *ctx_.store,
      [user_id, plan, now = now_ms()](storage::WriteTxn& txn) -> Result<bool> {
        auto state = get_notice_state(txn, user_id);
        if (!state || state->pending_since_ms != plan.seen.pending_since_ms ||
            state->notified_pos != plan.seen.notified_pos) {
          return false;  // decided on a state that changed meanwhile; the next check decides
        }
        OutgoingMail mail;
        mail.kind = MailKind::kNotice;
        mail.user_id = user_id;
        mail.to = plan.to;
        mail.message = plan.message;
        mail.queued_ms = now;
        mail.next_attempt_ms = now;
        HAVEN_TRY(check(queue_mail(txn, mail)));
        // Messages that arrived since the decision start the next notice's wait.
        bool newer = rooms::current_events_pos(txn) > plan.upto_pos;
        NoticeState next{newer ? now : 0, plan.upto_pos, now};
        HAVEN_TRY(check(put_notice_state(txn, user_id, next)));
        return true;
      },
      [this, user_id](Result<bool> r) {
        if (!r.ok()) return spdlog::warn("email: cannot queue a notice: {}", r.error().message);
        if (*r) spdlog::info("email: notice for {} queued", user_id);
        evaluate(user_id);
        pump();
      });
}

void EmailNotifier::clear_pending(const std::string& user_id, int64_t seen_pending_since) {
  write<bool>(
      *ctx_.store,
      [user_id, seen_pending_since](storage::WriteTxn& txn) -> Result<bool> {
        auto state = get_notice_state(txn, user_id);
        if (!state || state->pending_since_ms != seen_pending_since) return false;
        state->pending_since_ms = 0;
        HAVEN_TRY(check(put_notice_state(txn, user_id, *state)));
        return true;
      },
      [](Result<bool>) {});
}

void EmailNotifier::outbox_changed() { pump(); }

bool EmailNotifier::obsolete(storage::ReadTxn& txn, const OutgoingMail& mail, int64_t now) {
  if (now - mail.queued_ms > kMaxMailAgeMs) {
    spdlog::warn("email: giving up on mail {} for {} after {} attempts", mail.id, mail.user_id,
                 mail.attempts);
    return true;
  }
  if (mail.kind != MailKind::kNotice) return false;
  // Re-checked right before sending: read meanwhile (on any device) means no mail.
  if (summarize_unread(txn, mail.user_id, 0).conversations == 0) {
    spdlog::info("email: notice {} for {} dropped: read meanwhile", mail.id, mail.user_id);
    return true;
  }
  return false;
}

void EmailNotifier::pump() {
  if (in_flight_) return;
  pump_timer_.reset();
  auto txn = ctx_.store->begin_read();
  if (!txn) return;
  int64_t now = now_ms();
  int64_t next_due = std::numeric_limits<int64_t>::max();
  std::vector<uint64_t> drop;
  for (const OutgoingMail& mail : queued_mails(*txn, kPumpBatch)) {
    if (mail.next_attempt_ms > now) {
      next_due = std::min(next_due, mail.next_attempt_ms);
    } else if (obsolete(*txn, mail, now)) {
      drop.push_back(mail.id);
    } else {
      in_flight_ = mail.id;
      sender_.send(mail.id, mail.to, mail.message);
      break;
    }
  }
  txn.reset();
  if (!drop.empty()) {
    write<bool>(
        *ctx_.store,
        [drop](storage::WriteTxn& txn) -> Result<bool> {
          for (uint64_t id : drop) HAVEN_TRY(check(delete_mail(txn, id)));
          return true;
        },
        [this](Result<bool>) { pump(); });
    return;
  }
  if (!in_flight_ && next_due != std::numeric_limits<int64_t>::max()) {
    pump_timer_ = ctx_.loop->at(next_due, [this] { pump(); });
  }
}

void EmailNotifier::sent(uint64_t mail_id, std::string error) {
  in_flight_.reset();
  int64_t now = now_ms();
  if (error.empty()) {
    spdlog::info("email: mail {} accepted by the SMTP server", mail_id);
  }
  write<bool>(
      *ctx_.store,
      [mail_id, error, now](storage::WriteTxn& txn) -> Result<bool> {
        if (error.empty()) {
          HAVEN_TRY(check(delete_mail(txn, mail_id)));
          return true;
        }
        auto mail = get_mail(txn, mail_id);
        if (!mail) return true;
        ++mail->attempts;
        mail->next_attempt_ms = now + retry_delay_ms(mail->attempts);
        HAVEN_TRY(check(put_mail(txn, *mail)));
        spdlog::warn("email: mail {} for {} failed (attempt {}): {}; next try in {} s", mail_id,
                     mail->user_id, mail->attempts, error, retry_delay_ms(mail->attempts) / 1000);
        return true;
      },
      [this](Result<bool> r) {
        if (!r.ok()) spdlog::warn("email: cannot update the outbox: {}", r.error().message);
        pump();
      });
}

}  // namespace haven::email
