#include "homeserver/http/exchange.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "homeserver/http/router.h"

namespace haven::http {

Exchange::Exchange(evhttp_request* req, std::string method, std::string path,
                   std::string query, std::string body)
    : req_(req),
      method_(std::move(method)),
      path_(std::move(path)),
      query_string_(std::move(query)),
      body_(std::move(body)),
      target_(req != nullptr ? evhttp_request_get_uri(req) : ""),
      started_(std::chrono::steady_clock::now()) {}

Exchange::~Exchange() {
  // A request nobody answered (a handler bug) still gets an answer rather than hanging.
  if (req_ && !answered_) reply_error(Error::unknown("Request was not answered"));
}

std::optional<std::string> Exchange::query(std::string_view name) const {
  auto all = query_all(name);
  if (all.empty()) return std::nullopt;
  return all.front();
}

std::vector<std::string> Exchange::query_all(std::string_view name) const {
  if (!query_cache_) {
    query_cache_.emplace();
    std::string_view rest = query_string_;
    while (!rest.empty()) {
      auto amp = rest.find('&');
      std::string_view pair = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
      auto eq = pair.find('=');
      auto key = percent_decode(pair.substr(0, eq), true);
      auto val = eq == std::string_view::npos ? std::optional<std::string>("")
                                              : percent_decode(pair.substr(eq + 1), true);
      if (key && val) query_cache_->emplace(*key, *val);
    }
  }
  std::vector<std::string> out;
  auto [lo, hi] = query_cache_->equal_range(std::string(name));
  for (auto it = lo; it != hi; ++it) out.push_back(it->second);
  return out;
}

std::optional<std::string> Exchange::header(const char* name) const {
  if (!req_) return std::nullopt;
  const char* v = evhttp_find_header(evhttp_request_get_input_headers(req_), name);
  if (!v) return std::nullopt;
  return std::string(v);
}

std::string Exchange::peer_address() const {
  if (!req_) return {};
  char* addr = nullptr;
  ev_uint16_t port = 0;
  evhttp_connection_get_peer(evhttp_request_get_connection(req_), &addr, &port);
  return addr ? std::string(addr) : std::string();
}

void EvbufferFree::operator()(evbuffer* buf) const { evbuffer_free(buf); }

BodyBuffer Exchange::take_body_buffer() {
  if (body_buffer_) return std::move(body_buffer_);
  return BodyBuffer(evbuffer_new());
}

bool Exchange::begin_reply(int status, std::string_view content_type,
                           const std::vector<std::pair<std::string, std::string>>& headers) {
  if (answered_) return false;
  answered_ = true;
  log_line(status);
  if (!req_) return false;
  evkeyvalq* out = evhttp_request_get_output_headers(req_);
  evhttp_add_header(out, "Content-Type", std::string(content_type).c_str());
  evhttp_add_header(out, "Access-Control-Allow-Origin", "*");
  evhttp_add_header(out, "Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS");
  evhttp_add_header(out, "Access-Control-Allow-Headers",
                    "X-Requested-With, Content-Type, Authorization");
  for (auto& [k, v] : headers) evhttp_add_header(out, k.c_str(), v.c_str());
  return true;
}

void Exchange::reply_file(int status, std::string_view content_type, int fd, int64_t offset,
                          int64_t length,
                          const std::vector<std::pair<std::string, std::string>>& headers) {
  if (!begin_reply(status, content_type, headers)) {
    close(fd);
    return;
  }
  evbuffer* buf = evbuffer_new();
  // evbuffer_add_file owns fd from here on, also when it fails.
  if (length == 0) {
    close(fd);
  } else if (evbuffer_add_file(buf, fd, offset, length) != 0) {
    evbuffer_free(buf);
    evhttp_send_error(req_, 500, nullptr);
    req_ = nullptr;
    return;
  }
  evhttp_send_reply(req_, status, nullptr, buf);
  evbuffer_free(buf);
  req_ = nullptr;
}

void Exchange::reply_bytes(int status, std::string_view content_type, std::string_view bytes,
                           const std::vector<std::pair<std::string, std::string>>& headers) {
  if (!begin_reply(status, content_type, headers)) return;
  evbuffer* buf = evbuffer_new();
  evbuffer_add(buf, bytes.data(), bytes.size());
  evhttp_send_reply(req_, status, nullptr, buf);
  evbuffer_free(buf);
  req_ = nullptr;
}

void Exchange::reply_json(int status, std::string_view json_text) {
  reply_bytes(status, "application/json", json_text);
}

void Exchange::reply_json(int status, const rapidjson::Value& body) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  body.Accept(w);
  reply_json(status, std::string_view(buf.GetString(), buf.GetSize()));
}

void Exchange::reply_error(const Error& error) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("errcode");
  w.String(error.errcode);
  w.Key("error");
  w.String(error.message);
  w.EndObject();
  std::string text(buf.GetString(), buf.GetSize());
  if (!error.extra_json.empty()) {
    text.pop_back();
    text += "," + error.extra_json + "}";
  }
  if (error.retry_after_ms > 0) {
    std::string seconds = std::to_string((error.retry_after_ms + 999) / 1000);
    reply_bytes(error.status, "application/json", text, {{"Retry-After", seconds}});
    return;
  }
  reply_json(error.status, text);
}

void Exchange::log_line(int status) const {
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_)
                .count();
  // Templates only: the concrete path may carry room ids, txn ids or aliases.
  spdlog::info("{} {} {} {:.1f}ms {}", method_, route_template.empty() ? "-" : route_template,
               status, ms, user_id.empty() ? "-" : user_id);
}

}  // namespace haven::http
