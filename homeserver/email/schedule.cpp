#include "homeserver/email/schedule.h"

#include <algorithm>

namespace haven::email {

std::optional<int64_t> digest_window_ms(Frequency f) {
  switch (f) {
    case Frequency::kImmediate:
      return 0;
    case Frequency::kHourly:
      return kHourMs;
    case Frequency::kDaily:
      return kDayMs;
    case Frequency::kOff:
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<int64_t> notice_due_ms(Frequency f, int64_t pending_since_ms, int64_t last_active_ms,
                                     int64_t idle_ms) {
  auto window = digest_window_ms(f);
  if (!window) return std::nullopt;
  int64_t idle_from = last_active_ms > 0 ? last_active_ms + idle_ms : 0;
  return std::max(pending_since_ms + *window, idle_from);
}

int64_t retry_delay_ms(int attempts) {
  constexpr int64_t kFirstMs = 60 * 1000;
  int doublings = std::clamp(attempts - 1, 0, 10);
  return std::min<int64_t>(kFirstMs << doublings, kHourMs);
}

}  // namespace haven::email
