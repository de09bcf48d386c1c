#include "homeserver/http/server.h"

#include <arpa/inet.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

namespace haven::http {

Server::Server(Loop& loop, const Router& router, size_t max_body_bytes, size_t max_upload_bytes,
               std::string upload_spool_dir)
    : loop_(loop),
      router_(router),
      // Bodies a little over the JSON limit still reach handlers, which answer M_TOO_LARGE
      // naming the field; beyond this the server refuses them unread.
      max_json_body_(max_body_bytes * 2 + 4096),
      max_upload_body_(max_upload_bytes ? max_upload_bytes : max_json_body_),
      spool_dir_(std::move(upload_spool_dir)) {}

Server::~Server() {
  close_connections();
  if (tls_) SSL_CTX_free(tls_);
}

void Server::close_connections() {
  stop_accepting();
  // Moved out first: a closing connection's callbacks must not see the map being cleared.
  auto closing = std::move(connections_);
  connections_.clear();
  closing.clear();
}

namespace {
std::string openssl_error() {
  char text[256] = "unknown error";
  if (unsigned long code = ERR_get_error(); code != 0) ERR_error_string_n(code, text, sizeof text);
  ERR_clear_error();
  return text;
}
}  // namespace

bool Server::use_tls(const std::string& certificate_path, const std::string& private_key_path,
                     std::string* error) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) {
    *error = "cannot create a TLS context: " + openssl_error();
    return false;
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ctx, certificate_path.c_str()) != 1) {
    *error = "cannot use the certificate " + certificate_path + ": " + openssl_error();
  } else if (SSL_CTX_use_PrivateKey_file(ctx, private_key_path.c_str(), SSL_FILETYPE_PEM) != 1) {
    *error = "cannot use the private key " + private_key_path + ": " + openssl_error();
  } else if (SSL_CTX_check_private_key(ctx) != 1) {
    *error = "the private key " + private_key_path + " does not match the certificate";
  } else {
    if (tls_) SSL_CTX_free(tls_);
    tls_ = ctx;
    return true;
  }
  SSL_CTX_free(ctx);
  return false;
}

bool Server::listen(const std::string& address, int port, std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  if (getaddrinfo(address.c_str(), service.c_str(), &hints, &found) != 0 || found == nullptr) {
    *error = "cannot resolve the listen address " + address;
    return false;
  }
  listener_ =
      evconnlistener_new_bind(loop_.base(), &Server::on_accept, this,
                              LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1,
                              found->ai_addr, static_cast<int>(found->ai_addrlen));
  freeaddrinfo(found);
  if (!listener_) {
    *error = "cannot listen on " + address + ":" + std::to_string(port);
    return false;
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  getsockname(evconnlistener_get_fd(listener_), reinterpret_cast<sockaddr*>(&ss), &len);
  bound_port_ = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                         : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return true;
}

void Server::stop_accepting() {
  if (listener_) {
    evconnlistener_free(listener_);
    listener_ = nullptr;
  }
}

void Server::on_accept(evconnlistener*, int fd, sockaddr* addr, int addr_len, void* self) {
  static_cast<Server*>(self)->accept(fd, addr, addr_len);
}

void Server::accept(int fd, const sockaddr* addr, int addr_len) {
  // No Nagle: an answer written in several pieces (head, then a body over one segment) would
  // otherwise wait for the client's delayed ACK, 40 ms on Linux, on every keep-alive request.
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  char host[NI_MAXHOST] = "";
  getnameinfo(addr, static_cast<socklen_t>(addr_len), host, sizeof host, nullptr, 0,
              NI_NUMERICHOST);
  bufferevent* bev = nullptr;
  if (tls_) {
    SSL* ssl = SSL_new(tls_);
    if (ssl) {
      bev = bufferevent_openssl_socket_new(loop_.base(), fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                           BEV_OPT_CLOSE_ON_FREE);
      // Peers that close without a TLS close_notify are common; HTTP framing says when a
      // request is complete.
      if (bev) bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    }
  } else {
    bev = bufferevent_socket_new(loop_.base(), fd, BEV_OPT_CLOSE_ON_FREE);
  }
  if (!bev) {
    ::close(fd);
    return;
  }
  ConnectionOwner& owner = *this;
  auto conn = std::make_unique<Connection>(owner, bev, host, tls_ != nullptr);
  Connection* raw = conn.get();
  connections_.emplace(raw, std::move(conn));
  raw->start();
}

void Server::on_closed(Connection* conn) { connections_.erase(conn); }

BodyPlan Server::plan_body(Exchange& ex, const RequestHead&) {
  BodyPlan plan;
  // HEAD is GET without the body (RFC 9110 9.3.2); the connection leaves the body out.
  std::string_view method = ex.method() == "HEAD" ? std::string_view("GET") : ex.method();
  plan.route = router_.match(method, ex.path());
  if (plan.route.path_template) ex.route_template = *plan.route.path_template;
  plan.to_file = plan.route.upload;
  plan.limit = plan.route.upload ? max_upload_body_ : max_json_body_;
  return plan;
}

void Server::on_request(const ExchangePtr& ex, BodyPlan& plan) {
  if (ex->method() == "OPTIONS") {
    ex->route_template = "OPTIONS";
    ex->reply_json(200, "{}");
    return;
  }
  if (!plan.route.handler) {
    ex->route_template.clear();
    if (plan.route.path_known) {
      ex->reply_error(Error::with(405, "M_UNRECOGNIZED", "Method not allowed for this path"));
    } else {
      ex->reply_error(Error::unrecognized("Unrecognized request"));
    }
    return;
  }
  ex->params = std::move(plan.route.params);
  (*plan.route.handler)(ex);
}

}  // namespace haven::http
