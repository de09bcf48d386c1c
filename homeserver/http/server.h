// The HTTP listener (libevent evhttp) that feeds a Router: reads bodies up to a bound, turns
// every request into an Exchange, answers CORS preflights, 404/405 M_UNRECOGNIZED. Plain HTTP,
// or HTTPS (OpenSSL through libevent's bufferevent_openssl) after use_tls().
// Loop thread only.
#pragma once

#include <memory>
#include <string>

#include "homeserver/base/loop.h"
#include "homeserver/http/router.h"

struct evhttp;
struct ssl_ctx_st;
struct evhttp_request;
struct evhttp_bound_socket;

namespace haven::http {

class Server {
 public:
  // `max_body_bytes` bounds JSON bodies; `max_upload_bytes` bounds the bodies of routes added
  // with Router::add_upload (0: they get the JSON bound too).
  Server(Loop& loop, const Router& router, size_t max_body_bytes, size_t max_upload_bytes = 0);
  ~Server();
  // Serves HTTPS with a PEM certificate chain and its private key instead of plain HTTP.
  // Call before listen(); false with `error` set when the files cannot be used.
  bool use_tls(const std::string& certificate_path, const std::string& private_key_path,
               std::string* error);
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
  ssl_ctx_st* tls_ = nullptr;  // owned (SSL_CTX_free); nullptr for plain HTTP
  evhttp_bound_socket* socket_ = nullptr;
  int bound_port_ = 0;
};

}  // namespace haven::http
