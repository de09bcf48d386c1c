// The HTTP/1.1 listener that feeds a Router: accepts connections (plain, or TLS through
// libevent's bufferevent_openssl after use_tls()), reads each request through a Connection,
// bounds bodies (JSON routes in memory; upload routes streamed to a spool file), answers CORS
// preflights and 404/405 M_UNRECOGNIZED, and hands the rest to the route's handler.
// Loop thread only.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "homeserver/base/loop.h"
#include "homeserver/http/connection.h"
#include "homeserver/http/router.h"

struct ssl_ctx_st;
struct evconnlistener;
struct sockaddr;

namespace haven::http {

class Server : private ConnectionOwner {
 public:
  // `max_body_bytes` bounds JSON bodies; `max_upload_bytes` bounds the bodies of routes added
  // with Router::add_upload (0: they get the JSON bound too). Upload bodies are spooled into
  // files in `upload_spool_dir` (which must exist); without one, upload routes answer 500.
  Server(Loop& loop, const Router& router, size_t max_body_bytes, size_t max_upload_bytes = 0,
         std::string upload_spool_dir = "");
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  // Serves HTTPS with a PEM certificate chain and its private key instead of plain HTTP.
  // Call before listen(); false with `error` set when the files cannot be used.
  bool use_tls(const std::string& certificate_path, const std::string& private_key_path,
               std::string* error);
  // Binds and listens; false with `error` set on failure. Port 0 picks a free port.
  bool listen(const std::string& address, int port, std::string* error);
  int bound_port() const { return bound_port_; }
  // Stops accepting new connections (in-flight requests still finish).
  void stop_accepting();
  // Stops accepting and closes every open connection; their pending exchanges become closed.
  // At shutdown, call it while the loop can still run once more (see homeserver.cpp).
  void close_connections();

 private:
  static void on_accept(evconnlistener* listener, int fd, struct sockaddr* addr, int addr_len,
                        void* self);
  void accept(int fd, const struct sockaddr* addr, int addr_len);

  BodyPlan plan_body(Exchange& ex, const RequestHead& head) override;
  void on_request(const ExchangePtr& ex, BodyPlan& plan) override;
  const std::string& spool_dir() const override { return spool_dir_; }
  void on_closed(Connection* conn) override;

  Loop& loop_;
  const Router& router_;
  size_t max_json_body_;  // larger bodies of non-upload routes are refused unread
  size_t max_upload_body_;
  std::string spool_dir_;
  ssl_ctx_st* tls_ = nullptr;  // owned (SSL_CTX_free); nullptr for plain HTTP
  evconnlistener* listener_ = nullptr;
  int bound_port_ = 0;
  std::unordered_map<Connection*, std::unique_ptr<Connection>> connections_;
};

}  // namespace haven::http
