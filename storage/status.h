// storage::Status: the outcome of a storage call (ok, not found, full, I/O error, conflict).
// Value type; safe to move between threads.
#pragma once

#include <string>
#include <utility>

namespace haven::storage {

class Status {
 public:
  enum class Code { kOk, kNotFound, kFull, kIoError, kAborted };

  Status() = default;
  static Status ok_status() { return {}; }
  static Status not_found(std::string m = {}) { return {Code::kNotFound, std::move(m)}; }
  // The disk or the map cannot take more data; nothing of the failed batch was written.
  static Status full(std::string m = {}) { return {Code::kFull, std::move(m)}; }
  static Status io_error(std::string m = {}) { return {Code::kIoError, std::move(m)}; }
  // A job asked for its own writes to be rolled back (used by callers for business errors).
  static Status aborted(std::string m = {}) { return {Code::kAborted, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  bool is_full() const { return code_ == Code::kFull; }
  const std::string& message() const { return message_; }

 private:
  Status(Code c, std::string m) : code_(c), message_(std::move(m)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

}  // namespace haven::storage
