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

namespace haven::http {

class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(evhttp_request* req, std::string method, std::string path, std::string query,
           std::string body);
  ~Exchange();

  const std::string& method() const { return method_; }
  const std::string& path() const { return path_; }
  const std::string& body() const { return body_; }
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
  void reply_bytes(int status, std::string_view content_type, std::string_view bytes,
                   const std::vector<std::pair<std::string, std::string>>& headers = {});

  // Called by the server when the connection closes under a pending request.
  void mark_closed() { req_ = nullptr; }
  // Callback when the connection closes before the answer (for long-polls to deregister).
  std::function<void()> on_close;

 private:
  void log_line(int status) const;
  evhttp_request* req_;
  std::string method_, path_, query_string_, body_;
  mutable std::optional<std::multimap<std::string, std::string>> query_cache_;
  std::chrono::steady_clock::time_point started_;
  bool answered_ = false;
};

using ExchangePtr = std::shared_ptr<Exchange>;

}  // namespace haven::http
