// Internal to federation/: one blocking HTTPS exchange with libcurl, bounded in size and time.
// Any thread (each call uses its own handle).
#pragma once

#include <atomic>
#include <cstddef>
#include <string>
#include <vector>

namespace haven::federation::detail {

struct CurlRequest {
  std::string url;
  std::string method = "GET";
  std::vector<std::string> headers;  // "Name: value"
  std::string body;                  // sent when method is not GET
  std::string connect_to;            // CURLOPT_CONNECT_TO entry, "" for none
  bool verify_tls = true;
  bool follow_redirects = false;  // https redirects only, at most 5
  long timeout_s = 30;
  size_t max_response_bytes = 1 << 20;
  const std::atomic<bool>* cancel = nullptr;  // when it becomes true, the transfer stops
};

struct CurlResponse {
  int status = 0;     // 0: no HTTP answer
  std::string error;  // why there is no answer
  std::string body;
  std::string cache_control;  // of the final response
};

CurlResponse curl_perform(const CurlRequest& request);

// curl_global_init once per process, before any thread uses curl.
void ensure_curl_initialised();

}  // namespace haven::federation::detail
