// haven-care's time: the wall clock, or (testing.fake_clock) the wall clock plus an offset that
// tests advance through POST /_haven/care/v1/testing/clock. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>

namespace haven::care {

class Clock {
 public:
  explicit Clock(bool fake) : fake_(fake) {}
  int64_t now_ms() const;
  bool fake() const { return fake_; }
  // Only for a fake clock; returns false for the real one.
  bool advance(int64_t ms);

 private:
  bool fake_;
  std::atomic<int64_t> offset_ms_{0};
};

}  // namespace haven::care
