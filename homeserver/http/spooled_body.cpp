#include "homeserver/http/spooled_body.h"

#include <event2/buffer.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace haven::http {

namespace {
Error write_error(int err) {
  return Error::unknown(std::string("Cannot store the upload: ") + std::strerror(err));
}
}  // namespace

Result<std::unique_ptr<SpooledBody>> SpooledBody::create(const std::string& dir) {
  // A server without a spool directory takes no uploads (rather than spooling them to "/").
  if (dir.empty()) return Error::unknown("Cannot store the upload: this server takes no uploads");
  std::string path = dir + "/upload-XXXXXX";
  int fd = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd < 0) return write_error(errno);
  return std::unique_ptr<SpooledBody>(new SpooledBody(std::move(path), fd));
}

SpooledBody::~SpooledBody() {
  if (fd_ >= 0) ::close(fd_);
  if (!path_.empty()) ::unlink(path_.c_str());
}

Status SpooledBody::append(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return write_error(errno);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
    size_ += static_cast<uint64_t>(n);
  }
  return {};
}

Status SpooledBody::append_from(evbuffer* buf, size_t n) {
  while (n > 0) {
    // One writev over libevent's chain of chunks; it drains what was written.
    int written = evbuffer_write_atmost(buf, fd_, static_cast<ev_ssize_t>(n));
    if (written < 0) {
      if (errno == EINTR) continue;
      return write_error(errno);
    }
    if (written == 0) return write_error(ENOSPC);
    n -= static_cast<size_t>(written);
    size_ += static_cast<uint64_t>(written);
  }
  return {};
}

}  // namespace haven::http
