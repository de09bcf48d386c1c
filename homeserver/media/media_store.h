// The content repository's storage: uploaded bytes as content-addressed files on disk (named by
// their sha256, written to a temp file, fsynced, renamed) and their metadata in LMDB tables.
// MediaStore and BlobWriter do file I/O: call them on a worker thread, never the loop thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "homeserver/base/result.h"
#include "storage/store.h"

namespace haven::media {

// What is known about one media id. A reservation (POST /media/v1/create) has no sha256 yet.
struct MediaRecord {
  std::string media_id;
  std::string sha256;  // lowercase hex of the content; "" while reserved and not uploaded
  std::string content_type;
  uint64_t size = 0;
  std::string upload_name;  // the filename given at upload; "" = none
  std::string uploader;     // user id
  int64_t created_ts = 0;
  int64_t unused_expires_at = 0;  // reservations only: when the unused id lapses
  bool restricted = false;        // uploaded during the legacy freeze: authenticated routes only

  bool pending() const { return sha256.empty(); }
};

// A cached thumbnail of a media id, itself stored content-addressed.
struct ThumbnailRecord {
  std::string sha256;
  std::string content_type;
  uint64_t size = 0;
  int width = 0;
  int height = 0;
};

// A file in the store: its content address and length.
struct StoredBlob {
  std::string sha256;  // lowercase hex
  uint64_t size = 0;
};

constexpr size_t kMediaIdLength = 24;
constexpr size_t kMaxMediaIdLength = 255;

// A fresh random media id of [A-Za-z0-9].
std::string new_media_id();
// Whether `id` can be a media id of this server: 1..255 characters of [A-Za-z0-9]. Anything
// else (dots, slashes, NUL, percent escapes) names no media, so it never reaches a file path.
bool is_valid_media_id(std::string_view id);
// The media id of "mxc://<server_name>/<id>", this server's media; nullopt for other servers'
// media, other URIs and invalid ids.
std::optional<std::string> local_media_id(std::string_view mxc, std::string_view server_name);

// Metadata, inside storage transactions (any thread that holds the transaction).
std::optional<MediaRecord> get_media(storage::ReadTxn& txn, std::string_view media_id);
storage::Status put_media(storage::WriteTxn& txn, const MediaRecord& record);
// Reservations of `user_id` that are neither uploaded nor expired at `now_ms`.
size_t count_pending(storage::ReadTxn& txn, std::string_view user_id, int64_t now_ms);
// Deletes `user_id`'s reservations that expired before `now_ms`; returns how many.
storage::Status purge_expired(storage::WriteTxn& txn, std::string_view user_id, int64_t now_ms);

std::optional<ThumbnailRecord> get_thumbnail(storage::ReadTxn& txn, std::string_view media_id,
                                             int width, int height, std::string_view method);
storage::Status put_thumbnail(storage::WriteTxn& txn, std::string_view media_id, int width,
                              int height, std::string_view method, const ThumbnailRecord& rec);
size_t count_thumbnails(storage::ReadTxn& txn, std::string_view media_id);

// The directory of content-addressed files: <root>/<ab>/<cd>/<abcd...>, temp files in
// <root>/tmp. Its methods touch the disk; call them off the loop thread. Thread-safe.
class MediaStore {
 public:
  explicit MediaStore(std::string root) : root_(std::move(root)) {}
  // Creates the directories and removes temporary files a crash left behind (call once, at
  // start-up, before any upload); an error names the problem.
  Status init() const;
  const std::string& root() const { return root_; }
  // Where uploads are written before they are stored: the same file system as the blobs, so
  // storing one is a rename.
  std::string tmp_dir() const { return root_ + "/tmp"; }
  // The path of a blob; nullopt if `sha256` is not 64 lowercase hex digits.
  std::optional<std::string> blob_path(std::string_view sha256) const;
  // Opens a blob for reading (O_RDONLY | O_CLOEXEC); -1 if it is missing.
  int open_blob(std::string_view sha256) const;
  // Writes `bytes` as one blob (small data: thumbnails, tests).
  Result<StoredBlob> write_blob(std::string_view bytes) const;
  // Stores the complete file `temp_path` (in tmp_dir(), open as `fd`) as a blob: hashes it in
  // small chunks, fsyncs it and renames it to its content address. On success the file is gone
  // from `temp_path`; on failure it is left for its owner to remove.
  Result<StoredBlob> store_temp_file(int fd, const std::string& temp_path) const;

 private:
  std::string root_;
};

// Streams one blob into the store: append() chunks, then commit() fsyncs, hashes and renames
// the temp file to its content address. Dropped without commit(), it removes the temp file.
// One thread at a time.
class BlobWriter {
 public:
  explicit BlobWriter(const MediaStore& store);
  ~BlobWriter();
  BlobWriter(const BlobWriter&) = delete;
  BlobWriter& operator=(const BlobWriter&) = delete;

  Status append(std::string_view bytes);
  Result<StoredBlob> commit();

 private:
  const MediaStore& store_;
  std::string temp_path_;
  int fd_ = -1;
  uint64_t size_ = 0;
  struct HashState;
  std::unique_ptr<HashState> hash_;
  Status error_;
};

}  // namespace haven::media
