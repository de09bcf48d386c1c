#include "homeserver/email/smtp_sender.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace haven::email {

namespace {

constexpr long kConnectTimeoutSeconds = 10;
constexpr long kTimeoutSeconds = 60;

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// The message as libcurl's upload source.
struct Upload {
  const std::string* text;
  size_t offset = 0;
};

size_t read_upload(char* buffer, size_t size, size_t n, void* arg) {
  auto* upload = static_cast<Upload*>(arg);
  size_t left = upload->text->size() - upload->offset;
  size_t chunk = std::min(left, size * n);
  std::memcpy(buffer, upload->text->data() + upload->offset, chunk);
  upload->offset += chunk;
  return chunk;
}

int abort_when_stopping(void* flag, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<std::atomic<bool>*>(flag)->load() ? 1 : 0;
}

}  // namespace

SmtpSender::SmtpSender(Loop& loop, conf::Email settings, Done done)
    : loop_(loop), settings_(std::move(settings)), done_(std::move(done)) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  thread_ = std::thread([this] { run(); });
}

SmtpSender::~SmtpSender() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  abort_ = true;
  cv_.notify_all();
  thread_.join();
  curl_global_cleanup();
}

void SmtpSender::send(uint64_t mail_id, std::string to, std::string message) {
  {
    std::lock_guard lock(mu_);
    jobs_.push_back(Job{mail_id, std::move(to), std::move(message)});
  }
  cv_.notify_one();
}

void SmtpSender::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    if (stopping_) return;  // what was not sent stays in the outbox for the next start
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    std::string error = deliver(job);
    loop_.post([this, id = job.mail_id, error = std::move(error)]() mutable {
      done_(id, std::move(error));
    });
    lock.lock();
  }
}

std::string SmtpSender::deliver(const Job& job) const {
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return "cannot start libcurl";
  std::string from = "<" + settings_.from + ">";
  std::unique_ptr<curl_slist, SlistDeleter> rcpt(
      curl_slist_append(nullptr, ("<" + job.to + ">").c_str()));
  Upload upload{&job.message};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, settings_.smtp_url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, &read_upload);
  curl_easy_setopt(c, CURLOPT_READDATA, &upload);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(job.message.size()));
  // smtp://: STARTTLS whenever the server offers it; with require_starttls, never without.
  curl_easy_setopt(c, CURLOPT_USE_SSL,
                   static_cast<long>(settings_.require_starttls ? CURLUSESSL_ALL : CURLUSESSL_TRY));
  if (!settings_.smtp_ca_file.empty()) {
    curl_easy_setopt(c, CURLOPT_CAINFO, settings_.smtp_ca_file.c_str());
  }
  if (!settings_.smtp_username.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, settings_.smtp_username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, settings_.smtp_password.c_str());
  }
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, kConnectTimeoutSeconds);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, kTimeoutSeconds);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &abort_when_stopping);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(&abort_));
  CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) return "";
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  std::string error = curl_easy_strerror(rc);
  if (code != 0) error += " (SMTP " + std::to_string(code) + ")";
  return error;
}

}  // namespace haven::email
