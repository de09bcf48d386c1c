#include "storage/at_rest_keys.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

namespace haven::storage {

AtRestKey::AtRestKey(const unsigned char* bytes) { std::memcpy(bytes_, bytes, kAtRestKeyBytes); }

AtRestKey::~AtRestKey() { sodium_memzero(bytes_, kAtRestKeyBytes); }

namespace {

Status io_error(const char* what) {
  return Status::io_error(std::string("at-rest key file: ") + what + ": " + std::strerror(errno));
}

bool all_zero(const unsigned char* bytes) {
  return sodium_is_zero(bytes, AtRestKeyFile::kSlotBytes) == 1;
}

}  // namespace

std::unique_ptr<AtRestKeyFile> AtRestKeyFile::open(const std::string& path, std::string* error) {
  if (sodium_init() < 0) {
    if (error) *error = "libsodium cannot initialise";
    return nullptr;
  }
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (error) *error = "cannot open the at-rest key file " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  // A file created by an older umask or copied in keeps the key readable only by its owner.
  ::fchmod(fd, 0600);
  return std::unique_ptr<AtRestKeyFile>(new AtRestKeyFile(fd));
}

AtRestKeyFile::~AtRestKeyFile() { ::close(fd_); }

AtRestKeyPtr AtRestKeyFile::read(uint64_t slot) {
  {
    std::shared_lock lock(mu_);
    if (auto it = cache_.find(slot); it != cache_.end()) return it->second;
  }
  unsigned char bytes[kSlotBytes];
  ssize_t n = ::pread(fd_, bytes, kSlotBytes, static_cast<off_t>(slot * kSlotBytes));
  AtRestKeyPtr key;
  if (n == static_cast<ssize_t>(kSlotBytes) && !all_zero(bytes)) {
    key = std::make_shared<const AtRestKey>(bytes);
    std::unique_lock lock(mu_);
    cache_.emplace(slot, key);
  }
  sodium_memzero(bytes, kSlotBytes);
  return key;
}

AtRestKeyPtr AtRestKeyFile::create(uint64_t slot, Status* status) {
  unsigned char bytes[kSlotBytes];
  do {
    randombytes_buf(bytes, kSlotBytes);
  } while (all_zero(bytes));  // all zeros means "destroyed"
  *status = write_slot(slot, bytes);
  AtRestKeyPtr key;
  if (status->ok()) key = std::make_shared<const AtRestKey>(bytes);
  sodium_memzero(bytes, kSlotBytes);
  std::unique_lock lock(mu_);
  if (key) {
    cache_[slot] = key;
  } else {
    cache_.erase(slot);
  }
  return key;
}

Status AtRestKeyFile::destroy(uint64_t slot) {
  {
    std::unique_lock lock(mu_);
    cache_.erase(slot);
  }
  const unsigned char zeros[kSlotBytes] = {};
  return write_slot(slot, zeros);
}

Status AtRestKeyFile::write_slot(uint64_t slot, const unsigned char* bytes) {
  const off_t offset = static_cast<off_t>(slot * kSlotBytes);
  size_t done = 0;
  while (done < kSlotBytes) {
    ssize_t n = ::pwrite(fd_, bytes + done, kSlotBytes - done, offset + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return io_error("write");
    done += static_cast<size_t>(n);
  }
  if (::fdatasync(fd_) != 0) return io_error("sync");
  return Status();
}

}  // namespace haven::storage
