// Token-bucket rate limits keyed by (action, requester). Loop thread only.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "conf/config.h"

namespace haven {

class RateLimiter {
 public:
  // True when the action may go ahead now; otherwise sets retry_after_ms.
  bool allow(const std::string& action, const std::string& key, const conf::RateLimit& limit,
             int64_t now_ms, int64_t* retry_after_ms);

 private:
  struct Bucket {
    double tokens = 0;
    int64_t updated_ms = 0;
  };
  std::map<std::pair<std::string, std::string>, Bucket> buckets_;
  int64_t last_sweep_ms_ = 0;
};

}  // namespace haven
