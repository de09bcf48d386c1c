#include "homeserver/http/server.h"

#include <algorithm>
#include <unordered_map>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

namespace haven::http {

namespace {
const char* method_name(evhttp_cmd_type t) {
  switch (t) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_PATCH: return "PATCH";
    default: return "OTHER";
  }
}

// Exchanges still waiting for an answer, per connection, so a closed connection can mark
// them closed before libevent frees the request under them.
std::unordered_map<evhttp_connection*, std::vector<std::weak_ptr<Exchange>>>& pending() {
  static std::unordered_map<evhttp_connection*, std::vector<std::weak_ptr<Exchange>>> map;
  return map;
}

void on_connection_close(evhttp_connection* conn, void*) {
  auto it = pending().find(conn);
  if (it == pending().end()) return;
  auto list = std::move(it->second);
  pending().erase(it);
  for (auto& weak : list) {
    if (auto ex = weak.lock(); ex && !ex->answered()) {
      ex->mark_closed();
      if (ex->on_close) {
        auto cb = std::move(ex->on_close);
        cb();
      }
    }
  }
}

void track(evhttp_request* req, const ExchangePtr& ex) {
  evhttp_connection* conn = evhttp_request_get_connection(req);
  auto& list = pending()[conn];
  std::erase_if(list, [](const std::weak_ptr<Exchange>& w) {
    auto p = w.lock();
    return !p || p->answered();
  });
  list.push_back(ex);
  evhttp_connection_set_closecb(conn, &on_connection_close, nullptr);
}
}  // namespace

// Upload bodies this far over the upload limit still reach the handler, which answers with
// M_TOO_LARGE; beyond it libevent drains the body and answers 413 itself.
constexpr size_t kUploadSlackBytes = 1 << 20;

Server::Server(Loop& loop, const Router& router, size_t max_body_bytes, size_t max_upload_bytes)
    : loop_(loop), router_(router), max_json_body_(max_body_bytes * 2 + 4096) {
  http_ = evhttp_new(loop_.base());
  // Bodies a little over the JSON limit still reach handlers, which answer M_TOO_LARGE.
  // libevent 2.1 has one body limit for all paths and no hook between the headers and the body,
  // so it gets the larger of the two and handle() refuses large bodies of non-upload routes.
  size_t cap = std::max(max_json_body_, max_upload_bytes ? max_upload_bytes + kUploadSlackBytes : 0);
  evhttp_set_max_body_size(http_, static_cast<ev_ssize_t>(cap));
  // Read (and drop) an oversized body before answering 413, so the client sees the answer.
  evhttp_set_flags(http_, EVHTTP_SERVER_LINGERING_CLOSE);
  evhttp_set_max_headers_size(http_, 64 * 1024);
  evhttp_set_allowed_methods(http_, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                        EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
                                        EVHTTP_REQ_HEAD | EVHTTP_REQ_PATCH);
  evhttp_set_timeout(http_, 120);
  evhttp_set_gencb(http_, &Server::on_request, this);
}

Server::~Server() {
  evhttp_free(http_);
  if (tls_) SSL_CTX_free(tls_);
}

namespace {
// evhttp's bufferevent factory for HTTPS: every accepted connection gets its own TLS session.
bufferevent* make_tls_bufferevent(event_base* base, void* ctx) {
  SSL* ssl = SSL_new(static_cast<SSL_CTX*>(ctx));
  if (ssl == nullptr) return nullptr;
  bufferevent* bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                    BEV_OPT_CLOSE_ON_FREE);
  // Peers that close without a TLS close_notify are common; the HTTP layer knows when a
  // request is complete.
  if (bev) bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
  return bev;
}

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
    evhttp_set_bevcb(http_, &make_tls_bufferevent, tls_);
    return true;
  }
  SSL_CTX_free(ctx);
  return false;
}

bool Server::listen(const std::string& address, int port, std::string* error) {
  socket_ = evhttp_bind_socket_with_handle(http_, address.c_str(), static_cast<uint16_t>(port));
  if (!socket_) {
    *error = "cannot listen on " + address + ":" + std::to_string(port);
    return false;
  }
  evutil_socket_t fd = evhttp_bound_socket_get_fd(socket_);
  // No Nagle: a response written in several pieces (headers, then a body over one segment)
  // would otherwise wait for the client's delayed ACK, 40 ms on Linux, on every keep-alive
  // request. Accepted sockets inherit the option from the listener on Linux.
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  bound_port_ = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                         : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return true;
}

void Server::stop_accepting() {
  if (socket_) {
    evhttp_del_accept_socket(http_, socket_);
    socket_ = nullptr;
  }
}

void Server::on_request(evhttp_request* req, void* self) {
  static_cast<Server*>(self)->handle(req);
}

void Server::handle(evhttp_request* req) {
  std::string uri = evhttp_request_get_uri(req);
  auto q = uri.find('?');
  std::string path = uri.substr(0, q);
  std::string query = q == std::string::npos ? "" : uri.substr(q + 1);
  std::string method = method_name(evhttp_request_get_command(req));
  auto match = router_.match(method, path);
  evbuffer* in = evhttp_request_get_input_buffer(req);
  const size_t body_size = evbuffer_get_length(in);
  std::string body;
  BodyBuffer upload_body;
  if (match.upload) {
    // Moves libevent's chain of buffers into one of our own: no bytes are copied.
    upload_body.reset(evbuffer_new());
    evbuffer_add_buffer(upload_body.get(), in);
  } else if (body_size <= max_json_body_) {
    body.resize(body_size);
    evbuffer_copyout(in, body.data(), body.size());
  }

  auto ex = std::make_shared<Exchange>(req, method, std::move(path), std::move(query),
                                       std::move(body));
  track(req, ex);
  if (!match.upload && body_size > max_json_body_) {
    ex->reply_error(Error::too_large("Request body is too large"));
    return;
  }
  if (upload_body) ex->set_body_buffer(std::move(upload_body));
  if (method == "OPTIONS") {
    ex->route_template = "OPTIONS";
    ex->reply_json(200, "{}");
    return;
  }
  if (!match.handler) {
    if (match.path_known) {
      ex->reply_error(Error::with(405, "M_UNRECOGNIZED", "Method not allowed for this path"));
    } else {
      ex->reply_error(Error::unrecognized("Unrecognized request"));
    }
    return;
  }
  ex->route_template = *match.path_template;
  ex->params = std::move(match.params);
  (*match.handler)(ex);
}

}  // namespace haven::http
