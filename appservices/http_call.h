// One blocking JSON request with a bearer token: from the homeserver to an application service
// (its hs_token), or from haven-care to the homeserver (an as_token or a user's token). For
// worker threads, never a loop thread. Bodies in and out are bounded; a set `abort` flag ends
// the request early.
#pragma once

#include <atomic>
#include <string>

namespace haven::appservice {

struct HttpAnswer {
  enum class Outcome { kAnswered, kConnectionFailed, kTimedOut, kAborted };
  Outcome outcome = Outcome::kConnectionFailed;
  long status = 0;     // HTTP status when answered
  std::string body;    // at most kMaxAnswerBytes
  std::string detail;  // curl's reason when not answered
  bool ok() const { return outcome == Outcome::kAnswered && status >= 200 && status < 300; }
};

constexpr size_t kMaxAnswerBytes = 256 * 1024;

HttpAnswer call_service(const std::string& method, const std::string& url,
                        const std::string& bearer_token, const std::string& json_body,
                        long timeout_seconds, const std::atomic<bool>* abort = nullptr);

// Percent-encodes one path segment (user IDs, aliases, transaction ids).
std::string encode_path_segment(std::string_view s);

}  // namespace haven::appservice
