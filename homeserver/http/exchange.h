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

#include "homeserver/http/spooled_body.h"

struct evbuffer;

namespace haven::http {

class Connection;

class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  // A request that arrived on `conn` with the request target `target` (path and "?query").
  Exchange(Connection* conn, std::string method, std::string target,
           std::vector<std::pair<std::string, std::string>> headers, std::string peer_address);
  ~Exchange();

  const std::string& method() const { return method_; }
  const std::string& path() const { return path_; }
  // The request target exactly as received: path and "?query" (what X-Matrix signs).
  const std::string& target() const { return target_; }
  const std::string& body() const { return body_; }
  void set_body(std::string body) { body_ = std::move(body); }
  // Routes added with Router::add_upload: the body, spooled to a temporary file as it arrived.
  // The first call takes it (later calls give nullptr); body() stays empty.
  std::unique_ptr<SpooledBody> take_upload() { return std::move(upload_); }
  void set_upload(std::unique_ptr<SpooledBody> upload) { upload_ = std::move(upload); }
  // Decoded query parameter (first occurrence), or nullopt.
  std::optional<std::string> query(std::string_view name) const;
  std::vector<std::string> query_all(std::string_view name) const;
  // The first header field named `name` (case-insensitive).
  std::optional<std::string> header(std::string_view name) const;
  const std::string& peer_address() const { return peer_address_; }

  // Path parameters filled by the router, percent-decoded, in template order.
  std::vector<std::string> params;
  std::string route_template;  // for the request log
  std::string user_id;         // set once authenticated, for the request log

  bool closed() const { return conn_ == nullptr; }
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

  // Called by the connection when it closes under a pending request.
  void mark_closed() { conn_ = nullptr; }
  // Callback when the connection closes before the answer (for long-polls to deregister).
  std::function<void()> on_close;

 private:
  void log_line(int status) const;
  // Marks the exchange answered and adds the common headers; false if nobody is listening.
  bool begin_reply(int status, std::string_view content_type,
                   const std::vector<std::pair<std::string, std::string>>& headers);
  // Hands the answer to the connection; takes `body` (may be nullptr).
  void send(int status, evbuffer* body);
  Connection* conn_;
  std::string method_, path_, query_string_, body_, target_, peer_address_;
  std::vector<std::pair<std::string, std::string>> request_headers_;
  std::vector<std::pair<std::string, std::string>> reply_headers_;
  std::unique_ptr<SpooledBody> upload_;
  mutable std::optional<std::multimap<std::string, std::string>> query_cache_;
  std::chrono::steady_clock::time_point started_;
  bool answered_ = false;
};

using ExchangePtr = std::shared_ptr<Exchange>;

}  // namespace haven::http
