#include "homeserver/client/delayed_scheduler.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "homeserver/base/json.h"
#include "homeserver/base/write.h"
#include "homeserver/client/room_send.h"
#include "homeserver/delayed/delayed_store.h"

namespace haven::client {

namespace {

constexpr size_t kBatch = 64;             // due events sent per timer turn
constexpr int64_t kRetryAfterFailureMs = 1000;

std::string error_body(const Error& e) {
  auto d = json::object();
  json::set(d, "errcode", e.errcode, d.GetAllocator());
  json::set(d, "error", e.message, d.GetAllocator());
  return json::to_string(d);
}

Error already_finalised() {
  return Error::with(409, "M_UNKNOWN", "The delayed event was already sent or cancelled");
}

}  // namespace

void DelayedScheduler::rearm() {
  if (in_flight_ > 0) return;  // the batch re-arms when it finishes
  std::optional<int64_t> due;
  {
    auto txn = ctx_.store->begin_read();
    if (txn) due = delayed::earliest_due(*txn);
  }
  if (!due) {
    timer_.reset();
    return;
  }
  // A deadline on the server's clock (at, not after): moving the test clock sends what fell due.
  int64_t when = *due;
  if (batch_failed_) when = std::max(when, now_ms() + kRetryAfterFailureMs);
  timer_ = ctx_.loop->at(when, [this] { fire(); });
}

void DelayedScheduler::fire() {
  timer_.reset();
  std::vector<std::string> due;
  {
    auto txn = ctx_.store->begin_read();
    if (txn) due = delayed::due_by(*txn, now_ms(), kBatch);
  }
  batch_failed_ = false;
  if (due.empty()) return rearm();
  in_flight_ = due.size();
  // Jobs reach the single writer in this order, so the events are sent soonest first.
  for (const auto& id : due) {
    send(id, false, [this](Result<std::string> r) {
      // A write that failed, or a due entry whose record is gone: wait before the next try
      // instead of firing again at once.
      if (!r.ok() && (r.error().status == 507 || r.error().status == 409)) batch_failed_ = true;
      if (--in_flight_ == 0) rearm();
    });
  }
}

void DelayedScheduler::send(const std::string& delay_id, bool keep_on_error,
                            std::function<void(Result<std::string>)> done) {
  std::optional<delayed::DelayedEvent> record;
  {
    auto txn = ctx_.store->begin_read();
    if (txn) record = delayed::get(*txn, delay_id);
  }
  if (!record || record->outcome != delayed::Outcome::kScheduled) {
    return done(already_finalised());
  }
  auto content = json::parse_object(record->content_json);
  if (!content.ok()) return done(Error::unknown("Stored delayed event is unreadable"));
  auto draft = make_draft(record->room_id, record->user_id, record->type, record->state_key,
                          std::move(content.value()));
  SendHooks hooks;
  hooks.before = [delay_id](storage::WriteTxn& w) -> Status {
    auto current = delayed::get(w, delay_id);
    if (!current || current->outcome != delayed::Outcome::kScheduled) return already_finalised();
    return {};
  };
  hooks.after = [delay_id](storage::WriteTxn& w, const std::string& event_id) -> Status {
    auto current = delayed::get(w, delay_id);
    if (!current) return already_finalised();
    return delayed::finalise(w, *current, delayed::Outcome::kSent, now_ms(), event_id);
  };
  send_event(
      ctx_, std::move(draft), std::nullopt,
      [this, delay_id, keep_on_error, done = std::move(done)](Result<std::string> r) {
        bool lost_race = !r.ok() && r.error().status == 409;
        if (r.ok() || keep_on_error || lost_race) return done(std::move(r));
        spdlog::info("delayed event {} could not be sent: {}", delay_id, r.error().errcode);
        Error error = r.error();
        record_failure(delay_id, error, [done, error] { done(error); });
      },
      std::move(hooks));
}

void DelayedScheduler::record_failure(const std::string& delay_id, const Error& error,
                                      std::function<void()> then) {
  std::string body = error_body(error);
  write<bool>(
      *ctx_.store,
      [delay_id, body](storage::WriteTxn& w) -> Result<bool> {
        auto current = delayed::get(w, delay_id);
        if (!current || current->outcome != delayed::Outcome::kScheduled) return false;
        HAVEN_TRY(delayed::finalise(w, *current, delayed::Outcome::kFailed, now_ms(), {}, body));
        return true;
      },
      [then = std::move(then)](Result<bool>) { then(); });
}

void DelayedScheduler::state_changed(const rooms::Event& event) {
  std::vector<std::string> ids;
  {
    auto txn = ctx_.store->begin_read();
    if (!txn) return;
    ids = delayed::others_at_state(*txn, event.room_id(), event.type(), *event.state_key(),
                                   event.sender());
  }
  if (ids.empty()) return;
  write<bool>(
      *ctx_.store,
      [ids](storage::WriteTxn& w) -> Result<bool> {
        for (const auto& id : ids) {
          auto current = delayed::get(w, id);
          if (!current || current->outcome != delayed::Outcome::kScheduled) continue;
          HAVEN_TRY(delayed::finalise(w, *current, delayed::Outcome::kCancelled, now_ms()));
        }
        return true;
      },
      [this](Result<bool>) { rearm(); });
}

}  // namespace haven::client
