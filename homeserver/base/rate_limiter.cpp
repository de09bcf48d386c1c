#include "homeserver/base/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace haven {

bool RateLimiter::allow(const std::string& action, const std::string& key,
                        const conf::RateLimit& limit, int64_t now_ms, int64_t* retry_after_ms) {
  if (limit.per_second <= 0) return true;
  // Forget full buckets now and then so the map does not grow with every requester ever seen.
  if (now_ms - last_sweep_ms_ > 60'000) {
    std::erase_if(buckets_, [&](const auto& kv) {
      return kv.second.tokens + (now_ms - kv.second.updated_ms) / 1000.0 * limit.per_second >=
             limit.burst;
    });
    last_sweep_ms_ = now_ms;
  }
  auto [it, fresh] = buckets_.try_emplace({action, key});
  Bucket& b = it->second;
  if (fresh) b = {static_cast<double>(std::max(1, limit.burst)), now_ms};
  b.tokens = std::min<double>(std::max(1, limit.burst),
                              b.tokens + (now_ms - b.updated_ms) / 1000.0 * limit.per_second);
  b.updated_ms = now_ms;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return true;
  }
  *retry_after_ms = static_cast<int64_t>(std::ceil((1 - b.tokens) / limit.per_second * 1000));
  return false;
}

}  // namespace haven
