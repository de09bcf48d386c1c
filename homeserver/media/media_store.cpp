#include "homeserver/media/media_store.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "crypto/random.h"
#include "homeserver/base/json.h"
#include "storage/keys.h"

namespace haven::media {

namespace {

constexpr size_t kSha256HexLength = 64;

// Reservations waiting for their upload are indexed in kMedia under keys that start with '\0',
// which no media id (only [A-Za-z0-9]) can: '\0' user_id '\0' media_id -> expiry (u64).
std::string pending_prefix(std::string_view user_id) {
  return storage::KeyBuilder().str("").str(user_id).take();
}

std::string thumbnail_key(std::string_view media_id, int width, int height,
                          std::string_view method) {
  return storage::KeyBuilder()
      .str(media_id)
      .u32(static_cast<uint32_t>(width))
      .u32(static_cast<uint32_t>(height))
      .tail(method)
      .take();
}

std::string to_hex(const unsigned char* bytes, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 15]);
  }
  return out;
}

Error io_error(const std::string& what, int err) {
  return Error::unknown("Media store: " + what + ": " + std::strerror(err));
}

// Makes a rename or a new file durable by syncing the directory that names it.
void sync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

std::string new_media_id() { return crypto::random_token(kMediaIdLength); }

std::optional<std::string> local_media_id(std::string_view mxc, std::string_view server_name) {
  constexpr std::string_view kScheme = "mxc://";
  if (!mxc.starts_with(kScheme)) return std::nullopt;
  mxc.remove_prefix(kScheme.size());
  if (!mxc.starts_with(server_name) || mxc.substr(server_name.size(), 1) != "/") {
    return std::nullopt;
  }
  std::string_view id = mxc.substr(server_name.size() + 1);
  if (!is_valid_media_id(id)) return std::nullopt;
  return std::string(id);
}

bool is_valid_media_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxMediaIdLength) return false;
  for (char c : id) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum) return false;
  }
  return true;
}

std::optional<MediaRecord> get_media(storage::ReadTxn& txn, std::string_view media_id) {
  if (!is_valid_media_id(media_id)) return std::nullopt;
  auto value = txn.get(storage::Table::kMedia, media_id);
  if (!value) return std::nullopt;
  auto doc = json::parse_trusted(*value);
  if (!doc.IsObject()) return std::nullopt;
  MediaRecord r;
  r.media_id = std::string(media_id);
  r.sha256 = json::get_string(doc, "sha256");
  r.content_type = json::get_string(doc, "content_type");
  r.size = static_cast<uint64_t>(json::get_int(doc, "size"));
  r.upload_name = json::get_string(doc, "upload_name");
  r.uploader = json::get_string(doc, "uploader");
  r.created_ts = json::get_int(doc, "created_ts");
  r.unused_expires_at = json::get_int(doc, "unused_expires_at");
  r.restricted = json::get_bool(doc, "restricted");
  return r;
}

storage::Status put_media(storage::WriteTxn& txn, const MediaRecord& r) {
  if (!is_valid_media_id(r.media_id)) return storage::Status::aborted("invalid media id");
  auto doc = json::object();
  auto& a = doc.GetAllocator();
  json::set(doc, "sha256", r.sha256, a);
  json::set(doc, "content_type", r.content_type, a);
  json::set(doc, "size", static_cast<int64_t>(r.size), a);
  json::set(doc, "upload_name", r.upload_name, a);
  json::set(doc, "uploader", r.uploader, a);
  json::set(doc, "created_ts", r.created_ts, a);
  if (r.pending()) json::set(doc, "unused_expires_at", r.unused_expires_at, a);
  json::set(doc, "restricted", r.restricted, a);
  auto s = txn.put(storage::Table::kMedia, r.media_id, json::to_string(doc));
  if (!s.ok()) return s;
  std::string index = storage::KeyBuilder().tail(pending_prefix(r.uploader)).tail(r.media_id).take();
  if (r.pending()) {
    return txn.put(storage::Table::kMedia, index,
                   storage::encode_u64(static_cast<uint64_t>(r.unused_expires_at)));
  }
  return txn.del(storage::Table::kMedia, index);
}

size_t count_pending(storage::ReadTxn& txn, std::string_view user_id, int64_t now_ms) {
  size_t n = 0;
  txn.scan(storage::Table::kMedia, pending_prefix(user_id), {}, storage::Direction::kForward,
           [&](std::string_view, std::string_view value) {
             auto expires = storage::decode_u64(value);
             if (expires && static_cast<int64_t>(*expires) > now_ms) ++n;
             return true;
           });
  return n;
}

storage::Status purge_expired(storage::WriteTxn& txn, std::string_view user_id, int64_t now_ms) {
  std::string prefix = pending_prefix(user_id);
  std::vector<std::string> expired;
  txn.scan(storage::Table::kMedia, prefix, {}, storage::Direction::kForward,
           [&](std::string_view key, std::string_view value) {
             auto expires = storage::decode_u64(value);
             if (!expires || static_cast<int64_t>(*expires) <= now_ms) {
               expired.emplace_back(key.substr(prefix.size()));
             }
             return true;
           });
  for (const std::string& media_id : expired) {
    auto s = txn.del(storage::Table::kMedia, prefix + media_id);
    if (!s.ok()) return s;
    s = txn.del(storage::Table::kMedia, media_id);
    if (!s.ok()) return s;
  }
  return storage::Status::ok_status();
}

std::optional<ThumbnailRecord> get_thumbnail(storage::ReadTxn& txn, std::string_view media_id,
                                             int width, int height, std::string_view method) {
  auto value = txn.get(storage::Table::kMediaThumbnails,
                       thumbnail_key(media_id, width, height, method));
  if (!value) return std::nullopt;
  auto doc = json::parse_trusted(*value);
  if (!doc.IsObject()) return std::nullopt;
  ThumbnailRecord r;
  r.sha256 = json::get_string(doc, "sha256");
  r.content_type = json::get_string(doc, "content_type");
  r.size = static_cast<uint64_t>(json::get_int(doc, "size"));
  r.width = static_cast<int>(json::get_int(doc, "width"));
  r.height = static_cast<int>(json::get_int(doc, "height"));
  return r;
}

storage::Status put_thumbnail(storage::WriteTxn& txn, std::string_view media_id, int width,
                              int height, std::string_view method, const ThumbnailRecord& r) {
  auto doc = json::object();
  auto& a = doc.GetAllocator();
  json::set(doc, "sha256", r.sha256, a);
  json::set(doc, "content_type", r.content_type, a);
  json::set(doc, "size", static_cast<int64_t>(r.size), a);
  json::set(doc, "width", r.width, a);
  json::set(doc, "height", r.height, a);
  return txn.put(storage::Table::kMediaThumbnails, thumbnail_key(media_id, width, height, method),
                 json::to_string(doc));
}

size_t count_thumbnails(storage::ReadTxn& txn, std::string_view media_id) {
  size_t n = 0;
  txn.scan(storage::Table::kMediaThumbnails, storage::KeyBuilder().str(media_id).take(), {},
           storage::Direction::kForward, [&](std::string_view, std::string_view) {
             ++n;
             return true;
           });
  return n;
}

Status MediaStore::init() const {
  std::error_code ec;
  std::filesystem::create_directories(tmp_dir(), ec);
  if (ec) return Error::unknown("cannot create media store " + root_ + ": " + ec.message());
  // Only unfinished uploads live in tmp/; any there now were cut off by a crash.
  for (const auto& entry : std::filesystem::directory_iterator(tmp_dir(), ec)) {
    std::filesystem::remove(entry.path(), ec);
    if (ec) {
      return Error::unknown("cannot remove " + entry.path().string() + ": " + ec.message());
    }
  }
  if (ec) return Error::unknown("cannot read " + tmp_dir() + ": " + ec.message());
  return {};
}

std::optional<std::string> MediaStore::blob_path(std::string_view sha256) const {
  if (sha256.size() != kSha256HexLength) return std::nullopt;
  for (char c : sha256) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  }
  std::string s(sha256);
  return root_ + "/" + s.substr(0, 2) + "/" + s.substr(2, 2) + "/" + s;
}

int MediaStore::open_blob(std::string_view sha256) const {
  auto path = blob_path(sha256);
  if (!path) return -1;
  return ::open(path->c_str(), O_RDONLY | O_CLOEXEC);
}

Result<StoredBlob> MediaStore::write_blob(std::string_view bytes) const {
  BlobWriter writer(*this);
  HAVEN_TRY(writer.append(bytes));
  return writer.commit();
}

struct BlobWriter::HashState {
  crypto_hash_sha256_state state;
};

namespace {

// fsyncs the finished temp file and renames it to the blob named by its content.
Result<StoredBlob> install_blob(const MediaStore& store, int fd, const std::string& temp_path,
                                crypto_hash_sha256_state& hash, uint64_t size) {
  if (::fsync(fd) != 0) return io_error("fsync failed", errno);
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&hash, digest);
  StoredBlob blob{to_hex(digest, sizeof digest), size};
  std::string path = *store.blob_path(blob.sha256);
  std::string dir = path.substr(0, path.rfind('/'));
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error::unknown("Media store: cannot create " + dir + ": " + ec.message());
  // Same content, same name: renaming over an existing blob replaces it with equal bytes.
  if (::rename(temp_path.c_str(), path.c_str()) != 0) return io_error("rename failed", errno);
  sync_dir(dir);
  return blob;
}

}  // namespace

Result<StoredBlob> MediaStore::store_temp_file(int fd, const std::string& temp_path) const {
  crypto_hash_sha256_state hash;
  crypto_hash_sha256_init(&hash);
  // Read back in chunks: the file may be as large as the upload limit.
  constexpr size_t kChunkBytes = 64 * 1024;
  auto chunk = std::make_unique<unsigned char[]>(kChunkBytes);
  uint64_t size = 0;
  for (;;) {
    ssize_t n = ::pread(fd, chunk.get(), kChunkBytes, static_cast<off_t>(size));
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("read failed", errno);
    }
    if (n == 0) break;
    crypto_hash_sha256_update(&hash, chunk.get(), static_cast<unsigned long long>(n));
    size += static_cast<uint64_t>(n);
  }
  return install_blob(*this, fd, temp_path, hash, size);
}

BlobWriter::BlobWriter(const MediaStore& store)
    : store_(store), hash_(std::make_unique<HashState>()) {
  crypto_hash_sha256_init(&hash_->state);
  temp_path_ = store_.tmp_dir() + "/blob-" + crypto::random_token(16);
  fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd_ < 0) error_ = io_error("cannot create a temporary file", errno);
}

BlobWriter::~BlobWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
}

Status BlobWriter::append(std::string_view bytes) {
  if (!error_.ok()) return error_;
  crypto_hash_sha256_update(&hash_->state, reinterpret_cast<const unsigned char*>(bytes.data()),
                            bytes.size());
  while (!bytes.empty()) {
    ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      error_ = io_error("write failed", errno);
      return error_;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
    size_ += static_cast<uint64_t>(n);
  }
  return {};
}

Result<StoredBlob> BlobWriter::commit() {
  if (!error_.ok()) return error_.error();
  auto blob = install_blob(store_, fd_, temp_path_, hash_->state, size_);
  if (blob.ok()) temp_path_.clear();
  return blob;
}

}  // namespace haven::media
