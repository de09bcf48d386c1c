// The HTTP listener (libevent evhttp) that feeds a Router: reads bodies up to a bound, turns
// every request into an Exchange, answers CORS preflights, 404/405 M_UNRECOGNIZED.
// Loop thread only.
#pragma once

#include <memory>
#include <string>

#include "homeserver/base/loop.h"
#include "homeserver/http/router.h"

struct evhttp;
struct evhttp_request;
struct evhttp_bound_socket;

namespace haven::http {

class Server {
 public:
  // `max_body_bytes` bounds JSON bodies; `max_upload_bytes` bounds the bodies of routes added
  // with Router::add_upload (0: they get the JSON bound too).
  Server(Loop& loop, const Router& router, size_t max_body_bytes, size_t max_upload_bytes = 0);
  ~Server();
  // Binds and listens; false with `error` set on failure. Port 0 picks a free port.
  bool listen(const std::string& address, int port, std::string* error);
  int bound_port() const { return bound_port_; }
  // Stops accepting new connections (in-flight requests still finish).
  void stop_accepting();

 private:
  static void on_request(evhttp_request* req, void* self);
  void handle(evhttp_request* req);
  Loop& loop_;
  const Router& router_;
  size_t max_json_body_;  // larger bodies of non-upload routes are refused unread
  evhttp* http_ = nullptr;
  evhttp_bound_socket* socket_ = nullptr;
  int bound_port_ = 0;
};

}  // namespace haven::http
