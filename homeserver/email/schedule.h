// When new-message notices and their retries may go out: pure functions of times, so the rules
// are unit-tested without a clock. Any thread.
//
// The rules: a notice waits until the recipient has been idle for `idle_ms` (no email while
// they are online). "immediate" sends it then; "hourly" and "daily" collect: the first unread
// message after the previous notice opens a window of one hour or one day, and one digest goes
// out when that window closes. "off" sends nothing.
#pragma once

#include <cstdint>
#include <optional>

#include "homeserver/email/settings.h"

namespace haven::email {

inline constexpr int64_t kHourMs = 60 * 60 * 1000;
inline constexpr int64_t kDayMs = 24 * kHourMs;

// The digest window of `f` (0 for immediate; nullopt for off).
std::optional<int64_t> digest_window_ms(Frequency f);

// The earliest time the notice for unread messages pending since `pending_since_ms` may be
// sent, for a recipient last active at `last_active_ms` (0 = never). nullopt: never.
std::optional<int64_t> notice_due_ms(Frequency f, int64_t pending_since_ms, int64_t last_active_ms,
                                     int64_t idle_ms);

// SMTP retries: a mail that failed `attempts` times (>= 1) is tried again this much later:
// one minute, doubling, at most an hour, so that a mail server down for an hour costs at
// most an hour's delay.
int64_t retry_delay_ms(int attempts);

// A queued mail older than this is given up (logged); the outbox never grows without bound.
inline constexpr int64_t kMaxMailAgeMs = 3 * kDayMs;

}  // namespace haven::email
