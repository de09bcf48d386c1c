// One HTTP request and its pending answer. Created by the server on the loop thread; handlers
// may keep it (shared_ptr) across asynchronous work and answer later, on the loop thread only.
// If the client goes away first, the exchange becomes closed and answers are dropped.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "homeserver/base/result.h"

struct evhttp_request;
struct evbuffer;

namespace haven::http {

// Owns an evbuffer (freed with evbuffer_free). Used by one thread at a time.
struct EvbufferFree {
  void operator()(evbuffer* buf) const;
};
using BodyBuffer = std::unique_ptr<evbuffer, EvbufferFree>;

class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(evhttp_request* req, std::string method, std::string path, std::string query,
           std::string body);
  ~Exchange();

  const std::string& method() const { return method_; }
  const std::string& path() const { return path_; }
  // The request target exactly as received: path and "?query" (what X-Matrix signs).
  const std::string& target() const { return target_; }
  const std::string& body() const { return body_; }
  // Routes added with Router::add_upload: the body, moved out of libevent's buffer without a
  // copy. The first call takes it (later calls give an empty buffer); body() stays empty.
  BodyBuffer take_body_buffer();
  void set_body_buffer(BodyBuffer buffer) { body_buffer_ = std::move(buffer); }
  // Decoded query parameter (first occurrence), or nullopt.
  std::optional<std::string> query(std::string_view name) const;
  std::vector<std::string> query_all(std::string_view name) const;
  std::optional<std::string> header(const char* name) const;
  std::string peer_address() const;

  // Path parameters filled by the router, percent-decoded, in template order.
  std::vector<std::string> params;
  std::string route_template;  // for the request log
  std::string user_id;         // set once authenticated, for the request log

  bool closed() const { return req_ == nullptr; }
  bool answered() const { return answered_; }

  void reply_json(int status, std::string_view json_text);
  void reply_json(int status, const rapidjson::Value& body);
  void reply_error(const Error& error);
  // Answers with `length` bytes of the open file `fd` from `offset`; the kernel sends them
  // (sendfile or mmap) without reading the file into memory. Takes ownership of `fd`.
  void reply_file(int status, std::string_view content_type, int fd, int64_t offset,
                  int64_t length,
                  const std::vector<std::pair<std::string, std::string>>& headers = {});
  void reply_bytes(int status, std::string_view content_type, std::string_view bytes,
                   const std::vector<std::pair<std::string, std::string>>& headers = {});

  // Called by the server when the connection closes under a pending request.
  void mark_closed() { req_ = nullptr; }
  // Callback when the connection closes before the answer (for long-polls to deregister).
  std::function<void()> on_close;

 private:
  void log_line(int status) const;
  // Marks the exchange answered and adds the common headers; false if nobody is listening.
  bool begin_reply(int status, std::string_view content_type,
                   const std::vector<std::pair<std::string, std::string>>& headers);
  BodyBuffer body_buffer_;
  evhttp_request* req_;
  std::string method_, path_, query_string_, body_, target_;
  mutable std::optional<std::multimap<std::string, std::string>> query_cache_;
  std::chrono::steady_clock::time_point started_;
  bool answered_ = false;
};

using ExchangePtr = std::shared_ptr<Exchange>;

}  // namespace haven::http
