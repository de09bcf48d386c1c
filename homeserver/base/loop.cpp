#include "homeserver/base/loop.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>

#include <event2/event.h>
#include <event2/thread.h>

namespace haven {

Loop::Loop() {
  static const int threads_ready = evthread_use_pthreads();
  (void)threads_ready;
  base_ = event_base_new();
  wakeup_ = event_new(base_, -1, 0, &Loop::drain, this);
}

Loop::~Loop() {
  event_free(wakeup_);
  event_base_free(base_);
}

void Loop::post(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    posted_.push_back(std::move(fn));
  }
  event_active(wakeup_, 0, 0);
}

void Loop::drain(int, short, void* self) {
  auto* loop = static_cast<Loop*>(self);
  std::deque<std::function<void()>> batch;
  {
    std::lock_guard lock(loop->mu_);
    batch.swap(loop->posted_);
  }
  for (auto& fn : batch) fn();
}

void Loop::run() { event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY); }

void Loop::stop() { event_base_loopbreak(base_); }

Loop::Timer::~Timer() {
  if (clock_loop_) clock_loop_->clock_timers_.erase(this);
  if (ev_) event_free(ev_);
}

void Loop::Timer::arm(int64_t delay_ms) {
  delay_ms = std::max<int64_t>(0, delay_ms);
  timeval tv{static_cast<time_t>(delay_ms / 1000),
             static_cast<suseconds_t>((delay_ms % 1000) * 1000)};
  evtimer_add(ev_, &tv);  // re-adding a pending timer moves it
}

void Loop::Timer::fire(int, short, void* self) {
  auto* timer = static_cast<Timer*>(self);
  if (timer->clock_loop_) {
    int64_t left = timer->due_ms_ - now_ms();
    if (left > 0) return timer->arm(left);  // the wall clock was set back meanwhile
    timer->clock_loop_->clock_timers_.erase(timer);
    timer->clock_loop_ = nullptr;
  }
  auto fn = std::move(timer->fn_);
  if (fn) fn();  // may destroy the timer: touch nothing after
}

std::unique_ptr<Loop::Timer> Loop::after(int64_t ms, std::function<void()> fn) {
  std::unique_ptr<Timer> timer(new Timer());
  timer->fn_ = std::move(fn);
  timer->ev_ = evtimer_new(base_, &Timer::fire, timer.get());
  timer->arm(ms);
  return timer;
}

std::unique_ptr<Loop::Timer> Loop::at(int64_t when_ms, std::function<void()> fn) {
  std::unique_ptr<Timer> timer(new Timer());
  timer->fn_ = std::move(fn);
  timer->ev_ = evtimer_new(base_, &Timer::fire, timer.get());
  timer->clock_loop_ = this;
  timer->due_ms_ = when_ms;
  clock_timers_.insert(timer.get());
  timer->arm(when_ms - now_ms());
  return timer;
}

void Loop::clock_advanced() {
  int64_t now = now_ms();
  for (Timer* timer : clock_timers_) timer->arm(timer->due_ms_ - now);
}

WorkerPool::WorkerPool(int threads) {
  for (int i = 0; i < std::max(1, threads); ++i) {
    threads_.emplace_back([this] {
      for (;;) {
        std::function<void()> job;
        {
          std::unique_lock lock(mu_);
          cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
          if (jobs_.empty()) return;
          job = std::move(jobs_.front());
          jobs_.pop_front();
        }
        job();
      }
    });
  }
}

WorkerPool::~WorkerPool() { stop(); }

void WorkerPool::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void WorkerPool::enqueue(std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

namespace {
std::atomic<int64_t> clock_offset_ms{0};
}  // namespace

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count() +
         clock_offset_ms.load(std::memory_order_relaxed);
}

void advance_clock(int64_t ms) {
  if (ms > 0) clock_offset_ms.fetch_add(ms, std::memory_order_relaxed);
}

}  // namespace haven
