// Helpers for the storage tests: temp directories, a stand-in event loop, short read/write calls.
// Test code only; each helper documents its threads.
#pragma once

#include <stdlib.h>

#include <boost/test/unit_test.hpp>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "storage/lmdb_store.h"

namespace haven::storage {

inline std::ostream& operator<<(std::ostream& os, Status::Code code) {
  return os << "Status::Code(" << static_cast<int>(code) << ")";
}

}  // namespace haven::storage

namespace haven::storage::test {

// A fresh directory under /tmp, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "haven-storage-XXXXXX").string();
    BOOST_REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs posted callbacks in order on its own thread, as haven's event loop does. Destroying it
// runs whatever is still queued, then joins.
class PostThread {
 public:
  PostThread() : thread_([this] { loop(); }) {}
  ~PostThread() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Store::Post post() {
    return [this](std::function<void()> fn) {
      {
        std::lock_guard lock(mu_);
        queue_.push_back(std::move(fn));
      }
      cv_.notify_all();
    };
  }

 private:
  void loop() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      auto fn = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      fn();
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stop_ = false;
  std::thread thread_;
};

inline StoreOptions small_options(const TempDir& dir) {
  StoreOptions options;
  options.path = dir.path();
  options.initial_map_size = 1 << 20;
  options.max_map_size = 64 << 20;
  return options;
}

inline std::unique_ptr<LmdbStore> open_store(const StoreOptions& options, Store::Post post = {}) {
  std::string error;
  auto store = LmdbStore::open(options, std::move(post), &error);
  BOOST_REQUIRE_MESSAGE(store, "open failed: " << error);
  return store;
}

inline Status put(Store& store, Table table, std::string key, std::string value) {
  return store.run([&](WriteTxn& txn) { return txn.put(table, key, value); });
}

inline std::optional<std::string> get(Store& store, Table table, std::string_view key) {
  auto txn = store.begin_read();
  BOOST_REQUIRE(txn);
  auto value = txn->get(table, key);
  if (!value) return std::nullopt;
  return std::string(*value);
}

// Holds the writer thread inside a job until release(), so that jobs submitted meanwhile are
// queued and then taken together as one batch.
class WriterGate {
 public:
  explicit WriterGate(Store& store) {
    auto released = released_.get_future().share();
    std::promise<void> entered;
    auto entered_future = entered.get_future();
    store.submit(
        [released, entered = std::make_shared<std::promise<void>>(std::move(entered))](WriteTxn&) {
          entered->set_value();
          released.wait();
          return Status();
        },
        [](Status) {});
    entered_future.wait();
  }
  ~WriterGate() { release(); }
  void release() {
    if (!released_flag_) {
      released_flag_ = true;
      released_.set_value();
    }
  }

 private:
  std::promise<void> released_;
  bool released_flag_ = false;
};

// Collects `done` results; wait_for(n) blocks until n of them arrived.
class DoneLog {
 public:
  Store::Done slot(size_t index) {
    return [this, index](Status s) {
      std::lock_guard lock(mu_);
      if (statuses_.size() <= index) statuses_.resize(index + 1);
      statuses_[index].push_back(std::move(s));
      ++total_;
      cv_.notify_all();
    };
  }
  void wait_for(size_t n) {
    std::unique_lock lock(mu_);
    BOOST_REQUIRE(cv_.wait_for(lock, std::chrono::seconds(60), [&] { return total_ >= n; }));
  }
  // Every status delivered for `index` (exactly one is expected).
  std::vector<Status> at(size_t index) {
    std::lock_guard lock(mu_);
    return index < statuses_.size() ? statuses_[index] : std::vector<Status>{};
  }
  size_t total() {
    std::lock_guard lock(mu_);
    return total_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::vector<Status>> statuses_;
  size_t total_ = 0;
};

}  // namespace haven::storage::test
