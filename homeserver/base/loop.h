// The event loop (libevent event_base), the ways other threads hand work back to it, and the
// server's one clock (now_ms). Loop::post, now_ms and advance_clock are thread-safe;
// everything else is for the loop thread only.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

struct event_base;
struct event;

namespace haven {

class Loop {
 public:
  Loop();
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  event_base* base() const { return base_; }
  // Runs `fn` on the loop thread soon. Safe from any thread.
  void post(std::function<void()> fn);
  // Runs until stop(); returns on the loop thread.
  void run();
  void stop();

  // A one-shot timer; cancel by destroying the returned handle before it fires.
  class Timer {
   public:
    ~Timer();
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

   private:
    friend class Loop;
    Timer() = default;
    static void fire(int, short, void* self);
    void arm(int64_t delay_ms);
    struct event* ev_ = nullptr;
    std::function<void()> fn_;
    Loop* clock_loop_ = nullptr;  // set for at(): registered with that loop's clock timers
    int64_t due_ms_ = 0;          // at(): the now_ms() it fires at
  };
  // Fires after `ms` milliseconds of real time (timeouts of requests and connections).
  std::unique_ptr<Timer> after(int64_t ms, std::function<void()> fn);
  // Fires once now_ms() reaches `when_ms`: also early when the test clock is advanced past it
  // (deadlines of the server's own logic: digests, idle checks, presence, expiry).
  std::unique_ptr<Timer> at(int64_t when_ms, std::function<void()> fn);
  // The test clock moved: every at() timer is re-armed for its remaining time.
  void clock_advanced();

 private:
  static void drain(int, short, void* self);
  event_base* base_ = nullptr;
  struct event* wakeup_ = nullptr;
  std::mutex mu_;
  std::deque<std::function<void()>> posted_;
  std::set<Timer*> clock_timers_;
};

// A fixed pool of threads for CPU-heavy work; results go back through Loop::post.
class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  ~WorkerPool();
  // Runs `work` on a worker, then `done` on the loop. Safe from any thread.
  template <typename T>
  void run(Loop& loop, std::function<T()> work, std::function<void(T)> done) {
    enqueue([&loop, work = std::move(work), done = std::move(done)]() mutable {
      auto result = std::make_shared<T>(work());
      loop.post([done = std::move(done), result]() mutable { done(std::move(*result)); });
    });
  }
  void stop();

 private:
  void enqueue(std::function<void()> job);
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  bool stopping_ = false;
};

// The server's one clock: wall-clock milliseconds since the epoch, plus however far the test
// clock has been advanced (only ever by the testing.fake_clock admin endpoint). Every
// timestamp and deadline of the server's own logic comes from here.
int64_t now_ms();
// Moves now_ms() forward by `ms` (> 0) for the whole process. Callers then tell each loop
// (Loop::clock_advanced) so that timers set with at() fire at the new time.
void advance_clock(int64_t ms);

}  // namespace haven
