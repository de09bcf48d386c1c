// The event loop (libevent event_base) and the ways other threads hand work back to it.
// Loop::post is thread-safe; everything else is for the loop thread only.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
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
  // Runs `fn` on the loop thread once no network I/O or timer is waiting, one deferred
  // function per turn of the loop: for work that fans out (waking every /sync of a room), so
  // the answers already built are written before the next one is built. Loop thread only.
  void defer(std::function<void()> fn);
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
    struct event* ev_ = nullptr;
    std::function<void()> fn_;
  };
  std::unique_ptr<Timer> after(int64_t ms, std::function<void()> fn);

 private:
  static void drain(int, short, void* self);
  static void run_deferred(int, short, void* self);
  event_base* base_ = nullptr;
  struct event* wakeup_ = nullptr;
  struct event* deferred_event_ = nullptr;
  std::deque<std::function<void()>> deferred_;
  std::mutex mu_;
  std::deque<std::function<void()>> posted_;
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

// Wall-clock milliseconds since the epoch.
int64_t now_ms();

}  // namespace haven
