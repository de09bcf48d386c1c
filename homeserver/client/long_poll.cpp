#include "homeserver/client/long_poll.h"

#include <algorithm>

#include "homeserver/sync/notifier.h"

namespace haven::client {

void LongPoll::start(ServerContext& ctx, http::ExchangePtr ex, std::string user_id,
                     int64_t deadline_ms, Attempt attempt) {
  auto poll = std::make_shared<LongPoll>(ctx, std::move(ex), std::move(user_id), deadline_ms,
                                         std::move(attempt));
  poll->run(false);
}

LongPoll::LongPoll(ServerContext& ctx, http::ExchangePtr ex, std::string user_id,
                   int64_t deadline_ms, Attempt attempt)
    : ctx_(ctx),
      ex_(std::move(ex)),
      user_id_(std::move(user_id)),
      deadline_ms_(deadline_ms),
      attempt_(std::move(attempt)) {}

void LongPoll::run(bool final_attempt) {
  if (finished_) return;
  if (ex_->closed()) return finish();
  if (attempt_(final_attempt || now_ms() >= deadline_ms_)) return finish();
  wait();
}

void LongPoll::wait() {
  auto self = shared_from_this();
  waiter_ = ctx_.notifier->wait(user_id_, [self] {
    self->waiter_ = 0;
    self->run(false);
  });
  if (!timer_) {
    timer_ = ctx_.loop->after(std::max<int64_t>(0, deadline_ms_ - now_ms()), [self] {
      self->cancel_waiter();
      self->run(true);
    });
  }
  ex_->on_close = [self] { self->finish(); };
}

void LongPoll::cancel_waiter() {
  if (waiter_) ctx_.notifier->cancel(waiter_);
  waiter_ = 0;
}

// Drops the waiter, the timer and the close hook (which holds a reference to us).
void LongPoll::finish() {
  finished_ = true;
  cancel_waiter();
  auto keep = shared_from_this();
  timer_.reset();
  ex_->on_close = nullptr;
}

}  // namespace haven::client
