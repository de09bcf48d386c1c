// The body of an upload request, written to a temporary file as it arrives so that its size
// never weighs on memory. Written on the loop thread while the body arrives; afterwards its
// holder (a worker storing it) may read or move the file. Dropped, it removes the file unless
// disown() said the file was moved away.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "homeserver/base/result.h"

struct evbuffer;

namespace haven::http {

class SpooledBody {
 public:
  // A new empty file "upload-XXXXXX" in `dir` (which must exist), open for writing.
  static Result<std::unique_ptr<SpooledBody>> create(const std::string& dir);
  ~SpooledBody();
  SpooledBody(const SpooledBody&) = delete;
  SpooledBody& operator=(const SpooledBody&) = delete;

  Status append(std::string_view bytes);
  // Writes the first `n` bytes of `buf` and drains them, without copying them in memory.
  Status append_from(evbuffer* buf, size_t n);

  const std::string& path() const { return path_; }
  int fd() const { return fd_; }
  uint64_t size() const { return size_; }
  // The file was renamed elsewhere: do not remove it (the name may be another upload's by now).
  void disown() { path_.clear(); }

 private:
  SpooledBody(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

}  // namespace haven::http
