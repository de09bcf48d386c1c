// Result<T> and Error: the outcome of every fallible call above storage/ and crypto/.
// An Error carries what the client is told: HTTP status, Matrix errcode, readable message.
// Value types; safe to move between threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace haven {

struct Error {
  int status = 500;
  std::string errcode = "M_UNKNOWN";
  std::string message;
  // Extra top-level fields of the error body (e.g. retry_after_ms), as a JSON object text.
  std::string extra_json;
  // For M_LIMIT_EXCEEDED: also sent as a Retry-After header (seconds, rounded up).
  int64_t retry_after_ms = 0;

  static Error bad_json(std::string m) { return {400, "M_BAD_JSON", std::move(m), {}, 0}; }
  static Error not_json(std::string m) { return {400, "M_NOT_JSON", std::move(m), {}, 0}; }
  static Error missing_param(std::string m) { return {400, "M_MISSING_PARAM", std::move(m), {}, 0}; }
  static Error invalid_param(std::string m) { return {400, "M_INVALID_PARAM", std::move(m), {}, 0}; }
  static Error forbidden(std::string m) { return {403, "M_FORBIDDEN", std::move(m), {}, 0}; }
  static Error not_found(std::string m) { return {404, "M_NOT_FOUND", std::move(m), {}, 0}; }
  static Error unknown(std::string m) { return {500, "M_UNKNOWN", std::move(m), {}, 0}; }
  static Error too_large(std::string m) { return {413, "M_TOO_LARGE", std::move(m), {}, 0}; }
  static Error missing_token(std::string m) { return {401, "M_MISSING_TOKEN", std::move(m), {}, 0}; }
  static Error unknown_token(std::string m) { return {401, "M_UNKNOWN_TOKEN", std::move(m), {}, 0}; }
  static Error unrecognized(std::string m) { return {404, "M_UNRECOGNIZED", std::move(m), {}, 0}; }
  static Error limit_exceeded(int64_t retry_after_ms) {
    return {429, "M_LIMIT_EXCEEDED", "Too many requests",
            "\"retry_after_ms\":" + std::to_string(retry_after_ms), retry_after_ms};
  }
  static Error with(int status, std::string errcode, std::string m) {
    return {status, std::move(errcode), std::move(m), {}, 0};
  }
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}
  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const& { return *error_; }
  Error&& error() && { return std::move(*error_); }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;

}  // namespace haven

// Propagate an error from an expression returning Result<...>.
#define HAVEN_TRY(expr)                                        \
  do {                                                         \
    auto&& haven_try_r_ = (expr);                              \
    if (!haven_try_r_.ok()) return std::move(haven_try_r_).error(); \
  } while (0)
