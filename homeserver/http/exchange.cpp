#include "homeserver/http/exchange.h"

#include <event2/buffer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

#include "homeserver/http/connection.h"
#include "homeserver/http/router.h"

namespace haven::http {

Exchange::Exchange(Connection* conn, std::string method, std::string target,
                   std::vector<std::pair<std::string, std::string>> headers,
                   std::string peer_address)
    : conn_(conn),
      method_(std::move(method)),
      target_(std::move(target)),
      peer_address_(std::move(peer_address)),
      request_headers_(std::move(headers)),
      started_(std::chrono::steady_clock::now()) {
  auto q = target_.find('?');
  path_ = target_.substr(0, q);
  query_string_ = q == std::string::npos ? "" : target_.substr(q + 1);
}

Exchange::~Exchange() {
  // A request nobody answered (a handler bug) still gets an answer rather than hanging.
  if (conn_ && !answered_) reply_error(Error::unknown("Request was not answered"));
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

std::optional<std::string> Exchange::header(std::string_view name) const {
  auto same = [name](const std::string& key) {
    return key.size() == name.size() &&
           std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) ==
                    std::tolower(static_cast<unsigned char>(b));
           });
  };
  for (const auto& [key, value] : request_headers_) {
    if (same(key)) return value;
  }
  return std::nullopt;
}

void Exchange::send(int status, evbuffer* body) {
  Connection* conn = conn_;
  conn_ = nullptr;
  Connection::Response response;
  response.status = status;
  response.headers = std::move(reply_headers_);
  response.body = body;
  conn->send_response(std::move(response));
}

bool Exchange::begin_reply(int status, std::string_view content_type,
                           const std::vector<std::pair<std::string, std::string>>& headers) {
  if (answered_) return false;
  answered_ = true;
  log_line(status);
  if (!conn_) return false;
  reply_headers_ = {
      {"Content-Type", std::string(content_type)},
      {"Access-Control-Allow-Origin", "*"},
      {"Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS"},
      {"Access-Control-Allow-Headers", "X-Requested-With, Content-Type, Authorization"},
  };
  for (const auto& [k, v] : headers) {
    // Header values come from handlers; a line break in one would split the answer.
    if (k.find_first_of("\r\n") != std::string::npos ||
        v.find_first_of("\r\n") != std::string::npos) {
      continue;
    }
    reply_headers_.emplace_back(k, v);
  }
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
    reply_headers_.clear();
    send(500, nullptr);
    return;
  }
  send(status, buf);
}

void Exchange::reply_bytes(int status, std::string_view content_type, std::string_view bytes,
                           const std::vector<std::pair<std::string, std::string>>& headers) {
  if (!begin_reply(status, content_type, headers)) return;
  evbuffer* buf = evbuffer_new();
  evbuffer_add(buf, bytes.data(), bytes.size());
  send(status, buf);
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
