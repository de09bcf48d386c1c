// One client connection of an http::Server: reads each request's head, then its body (into
// memory, or into a SpooledBody for upload routes) as it arrives, hands the request to the
// server as an Exchange, writes the answer, then waits for the next request or closes.
// Owned by the server; loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "homeserver/http/chunked_decoder.h"
#include "homeserver/http/exchange.h"
#include "homeserver/http/request_head.h"
#include "homeserver/http/router.h"
#include "homeserver/http/spooled_body.h"

struct bufferevent;
struct evbuffer;

namespace haven::http {

class Connection;

// How the body of a request is read, decided on its head.
struct BodyPlan {
  uint64_t limit = 0;    // more body bytes than this: 413 M_TOO_LARGE
  bool to_file = false;  // spool it into a SpooledBody instead of memory
  Router::Match route;   // handed back with the request
};

// What a Connection asks of its server.
class ConnectionOwner {
 public:
  virtual ~ConnectionOwner() = default;
  // Decides how to read the body of `ex`, whose head has arrived; or answers `ex` at once.
  virtual BodyPlan plan_body(Exchange& ex, const RequestHead& head) = 0;
  // The whole request has arrived.
  virtual void on_request(const ExchangePtr& ex, BodyPlan& plan) = 0;
  // Where upload bodies are spooled ("" = nowhere: they are refused).
  virtual const std::string& spool_dir() const = 0;
  // The connection is finished: destroy it (it is not used after this call).
  virtual void on_closed(Connection* conn) = 0;
};

class Connection {
 public:
  // Takes ownership of `bev` (freed with the connection, which closes its socket).
  Connection(ConnectionOwner& owner, bufferevent* bev, std::string peer_address, bool tls);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void start();

  struct Response {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    evbuffer* body = nullptr;  // moved out (may hold file segments); nullptr: no body
  };
  // The answer to the current request (Exchange calls this once).
  void send_response(Response response);

 private:
  enum class Phase { kHead, kBody, kHandling, kLingering, kClosed };

  static void on_read(bufferevent* bev, void* self);
  static void on_write(bufferevent* bev, void* self);
  static void on_event(bufferevent* bev, short what, void* self);
  // Ends a libevent callback: destroys the connection once it is closed.
  void settle();

  void process_input();
  bool read_head();
  bool read_body();
  bool read_chunked_body(evbuffer* in);
  bool read_sized_body(evbuffer* in);
  bool store_body_bytes(std::string_view bytes);
  void finish_body();
  Error too_large() const;
  // Answers the request being read with `error` and stops reading it (the connection closes).
  void refuse(const Error& error);
  void after_response();
  void start_lingering();
  void linger();
  void set_read_timeout(std::optional<std::chrono::seconds> timeout);

  ConnectionOwner& owner_;
  bufferevent* bev_;
  std::string peer_;
  bool tls_;
  Phase phase_ = Phase::kHead;

  // The request being read or answered.
  RequestHead head_;
  BodyPlan plan_;
  ExchangePtr reading_;              // until its body is complete
  std::weak_ptr<Exchange> current_;  // from its head until its answer is written
  bool keep_alive_ = true;
  bool body_done_ = false;  // the request's body has been read to its end
  bool response_queued_ = false;
  uint64_t body_left_ = 0;  // Content-Length framing
  std::optional<ChunkedDecoder> chunked_;
  bool too_large_ = false;
  Status spool_status_;
  std::string body_;
  std::unique_ptr<SpooledBody> spool_;
  std::chrono::steady_clock::time_point linger_until_;
};

}  // namespace haven::http
