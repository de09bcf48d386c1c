#include "homeserver/push/push_sender.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <memory>

#include "homeserver/base/json.h"

namespace haven::push {

namespace {

constexpr long kTimeoutSeconds = 10;
constexpr size_t kMaxResponseBytes = 64 * 1024;
constexpr size_t kMaxQueued = 10'000;

size_t collect(char* data, size_t size, size_t n, void* out) {
  auto* body = static_cast<std::string*>(out);
  if (body->size() + size * n > kMaxResponseBytes) return 0;  // aborts the transfer
  body->append(data, size * n);
  return size * n;
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

PushSender::PushSender(Loop& loop, Rejected on_rejected)
    : loop_(loop), on_rejected_(std::move(on_rejected)) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  thread_ = std::thread([this] { run(); });
}

PushSender::~PushSender() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
  curl_global_cleanup();
}

void PushSender::send(Notification n) {
  n.due = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= kMaxQueued) {
      spdlog::warn("push: queue full, dropping a notification for app {}", n.app_id);
      return;
    }
    queue_.push(std::move(n));
  }
  cv_.notify_one();
}

void PushSender::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (queue_.empty()) {
      cv_.wait(lock);
      continue;
    }
    if (queue_.top().due > std::chrono::steady_clock::now()) {
      cv_.wait_until(lock, queue_.top().due);
      continue;
    }
    Notification n = queue_.top();
    queue_.pop();
    lock.unlock();
    std::vector<std::string> rejected;
    bool delivered = post(n, &rejected);
    for (const std::string& key : rejected) {
      loop_.post([this, app_id = n.app_id, key] { on_rejected_(app_id, key); });
    }
    lock.lock();
    if (!delivered && ++n.attempts < kMaxAttempts) {
      n.due = std::chrono::steady_clock::now() + std::chrono::seconds(1 << (n.attempts - 1));
      queue_.push(std::move(n));
    } else if (!delivered) {
      spdlog::warn("push: giving up on a notification for app {} after {} attempts", n.app_id,
                   n.attempts);
    }
  }
}

bool PushSender::post(const Notification& n, std::vector<std::string>* rejected) {
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return false;
  std::unique_ptr<curl_slist, SlistDeleter> headers(
      curl_slist_append(nullptr, "Content-Type: application/json"));
  std::string response;
  curl_easy_setopt(curl.get(), CURLOPT_URL, n.url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, n.body.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(n.body.size()));
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, kTimeoutSeconds);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &collect);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &response);
  CURLcode rc = curl_easy_perform(curl.get());
  long status = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  if (rc != CURLE_OK || status < 200 || status >= 300) {
    spdlog::info("push: gateway for app {} failed: {}", n.app_id,
                 rc != CURLE_OK ? curl_easy_strerror(rc) : "HTTP " + std::to_string(status));
    return false;
  }
  json::Document d = json::parse_trusted(response);
  if (d.IsObject()) {
    auto keys = d.FindMember("rejected");
    if (keys != d.MemberEnd() && keys->value.IsArray()) {
      for (const auto& k : keys->value.GetArray()) {
        if (k.IsString()) rejected->emplace_back(k.GetString(), k.GetStringLength());
      }
    }
  }
  return true;
}

}  // namespace haven::push
