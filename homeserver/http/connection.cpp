#include "homeserver/http/connection.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>

namespace haven::http {

namespace {

// A client idle this long between requests, or silent this long while sending one, is dropped.
constexpr std::chrono::seconds kReadTimeout{120};
// An answer the client does not take in this long (no progress at all) is abandoned.
constexpr std::chrono::seconds kWriteTimeout{120};
// After an answer sent before the request's body was read, the rest of the body is read and
// dropped for at most this long, so the client sees the answer rather than a reset connection.
constexpr std::chrono::seconds kLingerTime{10};
constexpr std::chrono::seconds kLingerSilence{5};
// While a request is handled, at most this much of the next one is buffered.
constexpr size_t kMaxBufferedWhileHandling = 64 * 1024;
// Body bytes gathered before they are written to a spool file (fewer, larger writes).
constexpr size_t kSpoolBatchBytes = 64 * 1024;

struct StatusReason {
  int status;
  const char* reason;
};
constexpr StatusReason kReasons[] = {
    {100, "Continue"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {204, "No Content"},
    {206, "Partial Content"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {304, "Not Modified"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {411, "Length Required"},
    {413, "Content Too Large"},
    {415, "Unsupported Media Type"},
    {416, "Range Not Satisfiable"},
    {417, "Expectation Failed"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
};

// Clients ignore the reason phrase; it is there for people reading traffic.
const char* reason_phrase(int status) {
  for (const auto& r : kReasons) {
    if (r.status == status) return r.reason;
  }
  return "Unknown";
}

std::string http_date() {
  char text[64];
  time_t now = ::time(nullptr);
  struct tm tm {};
  ::gmtime_r(&now, &tm);
  ::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return text;
}

}  // namespace

Connection::Connection(ConnectionOwner& owner, bufferevent* bev, std::string peer_address, bool tls)
    : owner_(owner), bev_(bev), peer_(std::move(peer_address)), tls_(tls) {}

Connection::~Connection() {
  if (auto ex = current_.lock(); ex && !ex->answered()) {
    ex->mark_closed();
    if (ex->on_close) {
      auto cb = std::move(ex->on_close);
      cb();
    }
  } else if (ex) {
    ex->mark_closed();
  }
  // A partly received upload goes with the connection: spool_'s destructor removes its file.
  bufferevent_free(bev_);
}

void Connection::start() {
  bufferevent_setcb(bev_, &Connection::on_read, &Connection::on_write, &Connection::on_event, this);
  set_read_timeout(kReadTimeout);
  bufferevent_enable(bev_, EV_READ | EV_WRITE);
}

void Connection::set_read_timeout(std::optional<std::chrono::seconds> timeout) {
  timeval write_tv{static_cast<time_t>(kWriteTimeout.count()), 0};
  if (timeout) {
    timeval read_tv{static_cast<time_t>(timeout->count()), 0};
    bufferevent_set_timeouts(bev_, &read_tv, &write_tv);
  } else {
    bufferevent_set_timeouts(bev_, nullptr, &write_tv);
  }
}

void Connection::on_read(bufferevent*, void* self) {
  auto* conn = static_cast<Connection*>(self);
  if (conn->phase_ == Phase::kLingering) {
    conn->linger();
  } else if (conn->phase_ == Phase::kHead || conn->phase_ == Phase::kBody) {
    conn->process_input();
  }
  // kHandling: what arrives is the next request; it waits in the input buffer.
  conn->settle();
}

void Connection::on_write(bufferevent* bev, void* self) {
  auto* conn = static_cast<Connection*>(self);
  if (conn->phase_ == Phase::kHandling && conn->response_queued_ &&
      evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
    conn->after_response();
  }
  conn->settle();
}

void Connection::on_event(bufferevent*, short what, void* self) {
  auto* conn = static_cast<Connection*>(self);
  // End of stream, an error or a timeout: the client is gone or too slow. A request still being
  // answered is abandoned (its Exchange becomes closed).
  if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) conn->phase_ = Phase::kClosed;
  conn->settle();
}

void Connection::settle() {
  if (phase_ == Phase::kClosed) owner_.on_closed(this);  // destroys this
}

void Connection::process_input() {
  while (phase_ == Phase::kHead || phase_ == Phase::kBody) {
    bool progressed = phase_ == Phase::kHead ? read_head() : read_body();
    if (!progressed) return;
  }
}

bool Connection::read_head() {
  evbuffer* in = bufferevent_get_input(bev_);
  // Empty lines before a request line are allowed (RFC 9112 2.2).
  while (evbuffer_get_length(in) >= 2) {
    char two[2];
    evbuffer_copyout(in, two, 2);
    if (two[0] != '\r' || two[1] != '\n') break;
    evbuffer_drain(in, 2);
  }
  evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, nullptr);
  if (end.pos < 0) {
    if (evbuffer_get_length(in) > kMaxRequestHeadBytes) {
      refuse(Error::with(431, "M_UNKNOWN", "Request head is too large"));
    }
    return false;
  }
  const size_t head_length = static_cast<size_t>(end.pos) + 4;
  if (head_length > kMaxRequestHeadBytes) {
    refuse(Error::with(431, "M_UNKNOWN", "Request head is too large"));
    return false;
  }
  std::string text(head_length, '\0');
  evbuffer_remove(in, text.data(), head_length);
  auto head = parse_request_head(text);
  if (!head.ok()) {
    refuse(head.error());
    return false;
  }
  head_ = std::move(*head);
  keep_alive_ = head_.keep_alive;
  body_done_ = false;
  response_queued_ = false;
  too_large_ = false;
  reading_ = std::make_shared<Exchange>(this, head_.method, head_.target, head_.headers, peer_);
  current_ = reading_;
  plan_ = owner_.plan_body(*reading_, head_);
  if (reading_->answered()) {  // refused on its head; its body is never read
    reading_.reset();
    phase_ = Phase::kHandling;
    return false;
  }
  if (!head_.chunked && head_.content_length > plan_.limit) {
    // Refused unread: the client learns at once instead of after sending it all.
    refuse(too_large());
    return false;
  }
  if (plan_.to_file) {
    auto spool = SpooledBody::create(owner_.spool_dir());
    if (!spool.ok()) {
      refuse(spool.error());
      return false;
    }
    spool_ = std::move(*spool);
  }
  if (head_.chunked) {
    chunked_.emplace();
  } else {
    body_left_ = head_.content_length;
  }
  if (head_.expect_continue && (head_.chunked || body_left_ > 0)) {
    constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    bufferevent_write(bev_, kContinue.data(), kContinue.size());
  }
  phase_ = Phase::kBody;
  return true;
}

bool Connection::read_body() {
  evbuffer* in = bufferevent_get_input(bev_);
  bool complete = head_.chunked ? read_chunked_body(in) : read_sized_body(in);
  if (phase_ != Phase::kBody) return false;  // refused while reading
  if (!complete) {
    // Wake up again once a batch has arrived, or the rest of a shorter body.
    size_t low = head_.chunked || !spool_
                     ? 0
                     : static_cast<size_t>(std::min<uint64_t>(body_left_, kSpoolBatchBytes));
    bufferevent_setwatermark(bev_, EV_READ, low, 0);
    return false;
  }
  finish_body();
  return true;
}

bool Connection::read_sized_body(evbuffer* in) {
  size_t n = static_cast<size_t>(std::min<uint64_t>(evbuffer_get_length(in), body_left_));
  if (n > 0) {
    if (spool_) {
      spool_status_ = spool_->append_from(in, n);
      if (!spool_status_.ok()) {
        refuse(spool_status_.error());
        return false;
      }
    } else {
      size_t old = body_.size();
      body_.resize(old + n);
      evbuffer_remove(in, body_.data() + old, n);
    }
    body_left_ -= n;
  }
  return body_left_ == 0;
}

bool Connection::store_body_bytes(std::string_view bytes) {
  const uint64_t have = spool_ ? spool_->size() : body_.size();
  if (have + bytes.size() > plan_.limit) {
    too_large_ = true;
    return false;
  }
  if (spool_) {
    spool_status_ = spool_->append(bytes);
    return spool_status_.ok();
  }
  body_.append(bytes);
  return true;
}

bool Connection::read_chunked_body(evbuffer* in) {
  const ChunkedDecoder::Sink sink = [this](std::string_view bytes) {
    return store_body_bytes(bytes);
  };
  while (chunked_->state() == ChunkedDecoder::State::kReading && evbuffer_get_length(in) > 0) {
    evbuffer_iovec piece;
    if (evbuffer_peek(in, -1, nullptr, &piece, 1) < 1) break;
    size_t used = chunked_->feed(
        std::string_view(static_cast<const char*>(piece.iov_base), piece.iov_len), sink);
    evbuffer_drain(in, used);
  }
  switch (chunked_->state()) {
    case ChunkedDecoder::State::kReading:
      return false;
    case ChunkedDecoder::State::kDone:
      return true;
    case ChunkedDecoder::State::kMalformed:
      refuse(Error::with(400, "M_UNKNOWN", "Malformed chunked request body"));
      return false;
    case ChunkedDecoder::State::kStopped:
      if (too_large_) {
        refuse(too_large());
      } else {
        refuse(spool_status_.error());
      }
      return false;
  }
  return false;
}

Error Connection::too_large() const {
  return Error::too_large("Request body is larger than " + std::to_string(plan_.limit) + " bytes");
}

void Connection::finish_body() {
  body_done_ = true;
  chunked_.reset();
  phase_ = Phase::kHandling;
  // While the request is handled (a long-poll may take minutes), reading goes on only to notice
  // a client that goes away, and buffers little of a next request.
  set_read_timeout(std::nullopt);
  bufferevent_setwatermark(bev_, EV_READ, 0, kMaxBufferedWhileHandling);
  auto ex = std::move(reading_);
  if (spool_) {
    ex->set_upload(std::move(spool_));
  } else {
    ex->set_body(std::move(body_));
  }
  body_.clear();
  owner_.on_request(ex, plan_);
}

void Connection::refuse(const Error& error) {
  keep_alive_ = false;
  spool_.reset();  // removes a partly written upload
  chunked_.reset();
  body_.clear();
  phase_ = Phase::kHandling;
  set_read_timeout(std::nullopt);
  bufferevent_setwatermark(bev_, EV_READ, 0, kMaxBufferedWhileHandling);
  ExchangePtr ex = reading_;
  if (!ex) {
    // Nothing usable arrived (a malformed head): answer as well as we can.
    ex = std::make_shared<Exchange>(this, head_.method.empty() ? "-" : head_.method, head_.target,
                                    head_.headers, peer_);
    current_ = ex;
  }
  reading_.reset();
  ex->reply_error(error);
}

void Connection::send_response(Response response) {
  if (phase_ == Phase::kClosed || phase_ == Phase::kLingering || response_queued_) {
    if (response.body) evbuffer_free(response.body);
    return;
  }
  response_queued_ = true;
  // A connection whose request body was not read to its end cannot carry another request.
  if (!body_done_) keep_alive_ = false;
  const size_t length = response.body ? evbuffer_get_length(response.body) : 0;
  const bool bodiless_status = response.status == 204 || response.status == 304;
  std::string head =
      "HTTP/1.1 " + std::to_string(response.status) + " " + reason_phrase(response.status) + "\r\n";
  for (const auto& [name, value] : response.headers) head += name + ": " + value + "\r\n";
  if (!bodiless_status) head += "Content-Length: " + std::to_string(length) + "\r\n";
  head += "Date: " + http_date() + "\r\n";
  if (!keep_alive_) {
    head += "Connection: close\r\n";
  } else if (head_.minor_version == 0) {
    head += "Connection: keep-alive\r\n";
  }
  head += "\r\n";
  evbuffer* out = bufferevent_get_output(bev_);
  evbuffer_add(out, head.data(), head.size());
  if (response.body) {
    if (head_.method != "HEAD" && !bodiless_status) evbuffer_add_buffer(out, response.body);
    evbuffer_free(response.body);
  }
  bufferevent_enable(bev_, EV_WRITE);
}

void Connection::after_response() {
  current_.reset();
  if (!keep_alive_) {
    start_lingering();
    return;
  }
  // Ready for the next request, which may already be waiting in the input buffer.
  head_ = RequestHead();
  plan_ = BodyPlan();
  response_queued_ = false;
  body_done_ = false;
  phase_ = Phase::kHead;
  set_read_timeout(kReadTimeout);
  bufferevent_setwatermark(bev_, EV_READ, 0, 0);
  bufferevent_enable(bev_, EV_READ);
  process_input();
}

void Connection::start_lingering() {
  if (body_done_ && evbuffer_get_length(bufferevent_get_input(bev_)) == 0) {
    phase_ = Phase::kClosed;  // nothing unread: closing cannot reset the connection
    return;
  }
  // Close our side but read (and drop) what the client still sends for a while: closing with
  // unread data would reset the connection and might destroy the answer before it is read.
  if (!tls_) ::shutdown(bufferevent_getfd(bev_), SHUT_WR);
  phase_ = Phase::kLingering;
  linger_until_ = std::chrono::steady_clock::now() + kLingerTime;
  set_read_timeout(kLingerSilence);
  bufferevent_setwatermark(bev_, EV_READ, 0, 0);
  bufferevent_enable(bev_, EV_READ);
  linger();
}

void Connection::linger() {
  evbuffer* in = bufferevent_get_input(bev_);
  evbuffer_drain(in, evbuffer_get_length(in));
  if (std::chrono::steady_clock::now() >= linger_until_) phase_ = Phase::kClosed;
}

}  // namespace haven::http
