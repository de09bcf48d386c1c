// Hands mails to the configured SMTP server with libcurl (smtp:// with STARTTLS when offered
// or required, smtps://, optional AUTH) on a thread of its own, so a slow or dead mail server
// never holds up the loop. It keeps nothing: the outbox (email_store.h) is the durable queue,
// and the result of each attempt goes back to the loop, which records it.
// send() and the destructor are for the loop thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "conf/config.h"
#include "homeserver/base/loop.h"

namespace haven::email {

class SmtpSender {
 public:
  // Runs on the loop: `error` is empty when the server accepted the mail.
  using Done = std::function<void(uint64_t mail_id, std::string error)>;

  SmtpSender(Loop& loop, conf::Email settings, Done done);
  ~SmtpSender();  // aborts the mail in progress (it stays in the outbox)
  SmtpSender(const SmtpSender&) = delete;
  SmtpSender& operator=(const SmtpSender&) = delete;

  void send(uint64_t mail_id, std::string to, std::string message);

 private:
  struct Job {
    uint64_t mail_id = 0;
    std::string to;
    std::string message;
  };
  void run();
  // One SMTP transaction; returns "" or what went wrong.
  std::string deliver(const Job& job) const;

  Loop& loop_;
  const conf::Email settings_;
  Done done_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::atomic<bool> abort_{false};  // read by libcurl's progress callback
  std::thread thread_;
};

}  // namespace haven::email
