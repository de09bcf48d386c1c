#include "appservices/care/clock.h"

#include "homeserver/base/loop.h"

namespace haven::care {

int64_t Clock::now_ms() const { return haven::now_ms() + offset_ms_.load(); }

bool Clock::advance(int64_t ms) {
  if (!fake_) return false;
  offset_ms_ += ms;
  return true;
}

}  // namespace haven::care
