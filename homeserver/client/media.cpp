// Client-Server API: the content repository. Uploads (direct, and reserve-then-PUT), downloads
// and thumbnails under the authenticated /_matrix/client/v1/media/ routes, and the deprecated
// unauthenticated /_matrix/media/v3/ downloads, which do not serve media uploaded while
// media.freeze_legacy_media is on.
#include <event2/buffer.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <memory>

#include "homeserver/base/write.h"
#include "homeserver/client/routes.h"
#include "homeserver/media/media_store.h"
#include "homeserver/media/thumbnailer.h"
#include "homeserver/rooms/ids.h"

namespace haven::client {

namespace {

using media::MediaRecord;

constexpr size_t kMaxPendingUploads = 10;
constexpr int64_t kReservationLifetimeMs = 24 * 60 * 60 * 1000;
constexpr int64_t kDefaultTimeoutMs = 20'000;
constexpr int64_t kMaxTimeoutMs = 120'000;
constexpr int64_t kPollIntervalMs = 250;
constexpr size_t kMaxThumbnailsPerMedia = 32;
constexpr size_t kMaxFilenameBytes = 255;
constexpr size_t kMaxContentTypeBytes = 255;
constexpr char kDefaultContentType[] = "application/octet-stream";

// Content types that are safe to show inline (the spec's list for Content-Disposition: inline).
constexpr std::string_view kInlineTypes[] = {
    "text/css",   "text/plain",      "text/csv",    "application/json", "application/ld+json",
    "image/jpeg", "image/gif",       "image/png",   "image/apng",       "image/webp",
    "image/avif", "video/mp4",       "video/webm",  "video/ogg",        "video/quicktime",
    "audio/mp4",  "audio/webm",      "audio/aac",   "audio/mpeg",       "audio/ogg",
    "audio/wave", "audio/wav",       "audio/x-wav", "audio/x-pn-wav",   "audio/flac",
    "audio/x-flac"};

// Downloads may be opened by a browser on the homeserver's origin: they may run nothing.
constexpr char kContentSecurityPolicy[] =
    "sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf; "
    "style-src 'unsafe-inline'; media-src 'self'; object-src 'self';";

using Headers = std::vector<std::pair<std::string, std::string>>;

uint64_t upload_limit(const ServerContext& ctx) { return ctx.config.media_max_upload_size_mb << 20; }

std::string mxc_uri(const ServerContext& ctx, const std::string& media_id) {
  return "mxc://" + ctx.server_name + "/" + media_id;
}

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// "type/subtype" (lowercased, parameters dropped), for the inline and thumbnail decisions.
std::string essence(std::string_view content_type) {
  std::string out(content_type.substr(0, content_type.find(';')));
  while (!out.empty() && out.back() == ' ') out.pop_back();
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The Content-Type of an upload: type "/" subtype as RFC 9110 tokens, optional parameters of
// printable ASCII. Missing means application/octet-stream.
Result<std::string> upload_content_type(const http::Exchange& ex) {
  auto header = ex.header("Content-Type");
  if (!header || header->empty()) return std::string(kDefaultContentType);
  const std::string& v = *header;
  if (v.size() > kMaxContentTypeBytes) return Error::invalid_param("Content-Type is too long");
  for (char c : v) {
    if (c < 0x20 || c > 0x7e) return Error::invalid_param("Invalid Content-Type");
  }
  std::string_view type = std::string_view(v).substr(0, v.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  auto slash = type.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == type.size() ||
      !std::all_of(type.begin(), type.begin() + slash, is_token_char) ||
      !std::all_of(type.begin() + slash + 1, type.end(), is_token_char)) {
    return Error::invalid_param("Invalid Content-Type");
  }
  return v;
}

// A file name for Content-Disposition: UTF-8 without control characters, at most 255 bytes.
Status check_filename(std::string_view name) {
  if (name.size() > kMaxFilenameBytes) return Error::invalid_param("File name is too long");
  if (!rooms::is_valid_utf8(name)) return Error::invalid_param("File name is not UTF-8");
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Error::invalid_param("File name has control characters");
    }
  }
  return {};
}

// RFC 6266: inline only for the safe types; the name as a plain token when it is one, else
// percent-encoded UTF-8 in filename*, so no name can break out of the header.
std::string content_disposition(std::string_view content_type, std::string_view filename) {
  std::string type = essence(content_type);
  bool is_inline = std::find(std::begin(kInlineTypes), std::end(kInlineTypes), type) !=
                   std::end(kInlineTypes);
  std::string out = is_inline ? "inline" : "attachment";
  if (filename.empty()) return out;
  auto attr_char = [](char c) { return is_token_char(c) && c != '%' && c != '\'' && c != '*'; };
  if (std::all_of(filename.begin(), filename.end(), attr_char)) {
    return out + "; filename=" + std::string(filename);
  }
  static const char kHex[] = "0123456789ABCDEF";
  out += "; filename*=utf-8''";
  for (char c : filename) {
    if (attr_char(c)) {
      out += c;
    } else {
      auto b = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
  }
  return out;
}

Headers download_headers(std::string_view content_type, std::string_view filename) {
  return {{"Content-Disposition", content_disposition(content_type, filename)},
          {"Content-Security-Policy", kContentSecurityPolicy},
          {"X-Content-Type-Options", "nosniff"},
          {"Cross-Origin-Resource-Policy", "cross-origin"},
          {"Accept-Ranges", "bytes"}};
}

// A single byte range of a Range header. Anything but one well-formed "bytes=" range is
// ignored (the whole file is sent), as RFC 9110 allows.
struct ByteRange {
  bool unsatisfiable = false;
  uint64_t start = 0;
  uint64_t length = 0;
};

std::optional<uint64_t> parse_decimal(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<ByteRange> parse_range(const std::optional<std::string>& header, uint64_t size) {
  if (!header) return std::nullopt;
  std::string_view v = *header;
  constexpr std::string_view kPrefix = "bytes=";
  if (!v.starts_with(kPrefix)) return std::nullopt;
  v.remove_prefix(kPrefix.size());
  auto dash = v.find('-');
  if (dash == std::string_view::npos || v.find(',') != std::string_view::npos) return std::nullopt;
  std::string_view first = v.substr(0, dash), last = v.substr(dash + 1);
  ByteRange r;
  if (first.empty()) {  // the last N bytes
    auto n = parse_decimal(last);
    if (!n) return std::nullopt;
    if (*n == 0 || size == 0) return ByteRange{true, 0, 0};
    r.length = std::min(*n, size);
    r.start = size - r.length;
    return r;
  }
  auto start = parse_decimal(first);
  if (!start) return std::nullopt;
  uint64_t end = size == 0 ? 0 : size - 1;
  if (!last.empty()) {
    auto e = parse_decimal(last);
    if (!e || *e < *start) return std::nullopt;
    end = std::min(end, *e);
  }
  if (*start >= size) return ByteRange{true, 0, 0};
  r.start = *start;
  r.length = end - *start + 1;
  return r;
}

// The media id of a {serverName}/{mediaId} path, or M_NOT_FOUND.
Result<std::string> local_media_id(const ServerContext& ctx, const http::Exchange& ex) {
  // There is no federation yet: media of other servers cannot be fetched, so it is unknown.
  if (ex.params[0] != ctx.server_name) return Error::not_found("Media not found");
  if (!media::is_valid_media_id(ex.params[1])) return Error::not_found("Media not found");
  return ex.params[1];
}

Result<int64_t> timeout_of(const http::Exchange& ex) {
  auto v = ex.query("timeout_ms");
  if (!v) return kDefaultTimeoutMs;
  auto n = parse_decimal(*v);
  if (!n) return Error::invalid_param("timeout_ms must be a non-negative integer");
  return static_cast<int64_t>(std::min<uint64_t>(*n, kMaxTimeoutMs));
}

using WithMedia = std::function<void(const MediaRecord&)>;

// Finds uploaded media and runs `then`; for a reservation not uploaded yet, waits until
// `deadline` (then 504 M_NOT_YET_UPLOADED). Legacy routes do not see restricted media.
void await_media(ServerContext& ctx, const http::ExchangePtr& ex, const std::string& media_id,
                 bool legacy, int64_t deadline, WithMedia then) {
  std::optional<MediaRecord> record;
  {
    auto txn = ctx.store->begin_read();
    if (!txn) return ex->reply_error(Error::unknown("Storage is busy"));
    record = media::get_media(*txn, media_id);
  }
  int64_t now = now_ms();
  if (!record || (legacy && record->restricted) ||
      (record->pending() && record->unused_expires_at <= now)) {
    return ex->reply_error(Error::not_found("Media not found"));
  }
  if (!record->pending()) return then(*record);
  if (now >= deadline) {
    return ex->reply_error(
        Error::with(504, "M_NOT_YET_UPLOADED", "The media has not been uploaded yet"));
  }
  auto slot = std::make_shared<std::unique_ptr<Loop::Timer>>();
  *slot = ctx.loop->after(std::min(kPollIntervalMs, deadline - now),
                          [&ctx, ex, media_id, legacy, deadline, then, slot] {
                            auto timer = std::move(*slot);  // fired: release it after this call
                            if (ex->closed()) return;
                            await_media(ctx, ex, media_id, legacy, deadline, then);
                          });
}

void reply_range_not_satisfiable(const http::ExchangePtr& ex, uint64_t size) {
  auto body = json::object();
  json::set(body, "errcode", "M_UNKNOWN", body.GetAllocator());
  json::set(body, "error", "Requested range not satisfiable", body.GetAllocator());
  ex->reply_bytes(416, "application/json", json::to_string(body),
                  {{"Content-Range", "bytes */" + std::to_string(size)}});
}

// Sends a blob from the store (all of it, or the requested range) with the download headers.
void serve_blob(ServerContext& ctx, const http::ExchangePtr& ex, const std::string& sha256,
                const std::string& content_type, const std::string& filename) {
  int fd = ctx.media->open_blob(sha256);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    if (fd >= 0) ::close(fd);
    return ex->reply_error(Error::not_found("Media content is missing"));
  }
  auto size = static_cast<uint64_t>(st.st_size);
  Headers headers = download_headers(content_type, filename);
  auto range = parse_range(ex->header("Range"), size);
  if (range && range->unsatisfiable) {
    ::close(fd);
    return reply_range_not_satisfiable(ex, size);
  }
  if (range) {
    headers.emplace_back("Content-Range", "bytes " + std::to_string(range->start) + "-" +
                                              std::to_string(range->start + range->length - 1) +
                                              "/" + std::to_string(size));
    return ex->reply_file(206, content_type, fd, static_cast<int64_t>(range->start),
                          static_cast<int64_t>(range->length), headers);
  }
  ex->reply_file(200, content_type, fd, 0, static_cast<int64_t>(size), headers);
}

// Writes an upload body into the store, chunk by chunk as libevent received it, freeing each
// chunk once written. Worker thread.
Result<media::StoredBlob> store_body(const media::MediaStore& store, evbuffer* body) {
  media::BlobWriter writer(store);
  while (evbuffer_get_length(body) > 0) {
    evbuffer_iovec chunk;
    if (evbuffer_peek(body, -1, nullptr, &chunk, 1) < 1) break;
    HAVEN_TRY(writer.append(
        std::string_view(static_cast<const char*>(chunk.iov_base), chunk.iov_len)));
    evbuffer_drain(body, chunk.iov_len);
  }
  return writer.commit();
}

// What an upload stores, checked before any byte is written.
struct UploadRequest {
  std::string content_type;
  std::string filename;
  std::shared_ptr<evbuffer> body;
};

Result<UploadRequest> read_upload(ServerContext& ctx, http::Exchange& ex) {
  const uint64_t limit = upload_limit(ctx);
  auto too_large = [&] {
    return Error::too_large("Upload is larger than " + std::to_string(limit) + " bytes");
  };
  if (auto declared = ex.header("Content-Length"); declared) {
    auto n = parse_decimal(*declared);
    if (!n || *n > limit) return too_large();
  }
  UploadRequest req;
  req.body = std::shared_ptr<evbuffer>(ex.take_body_buffer().release(), evbuffer_free);
  if (evbuffer_get_length(req.body.get()) > limit) return too_large();
  auto type = upload_content_type(ex);
  if (!type.ok()) return type.error();
  req.content_type = std::move(*type);
  if (auto name = ex.query("filename"); name) {
    HAVEN_TRY(check_filename(*name));
    req.filename = std::move(*name);
  }
  return req;
}

// Stores the body on a worker, then records it: as new media, or into the reservation
// `reserved_id` of `who` (only once). `reply` gets the stored record.
void store_upload(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who,
                  UploadRequest req, std::optional<std::string> reserved_id,
                  std::function<void(const MediaRecord&)> reply) {
  const media::MediaStore* store = ctx.media;
  auto body = req.body;
  ctx.workers->run<Result<media::StoredBlob>>(
      *ctx.loop, [store, body] { return store_body(*store, body.get()); },
      [&ctx, ex, who, req = std::move(req), reserved_id,
       reply = std::move(reply)](Result<media::StoredBlob> blob) {
        if (!blob.ok()) return ex->reply_error(blob.error());
        MediaRecord record;
        record.media_id = reserved_id ? *reserved_id : media::new_media_id();
        record.sha256 = blob->sha256;
        record.size = blob->size;
        record.content_type = req.content_type;
        record.upload_name = req.filename;
        record.uploader = who.user_id;
        record.created_ts = now_ms();
        record.restricted = ctx.config.media_freeze_legacy_media;
        write<MediaRecord>(
            *ctx.store,
            [record, reserved = reserved_id.has_value()](
                storage::WriteTxn& txn) -> Result<MediaRecord> {
              auto existing = media::get_media(txn, record.media_id);
              if (reserved) {
                if (!existing || (existing->pending() &&
                                  existing->unused_expires_at <= record.created_ts)) {
                  return Error::not_found("Unknown or expired media id");
                }
                if (existing->uploader != record.uploader) {
                  return Error::forbidden("This media id was created by another user");
                }
                if (!existing->pending()) {
                  return Error::with(409, "M_CANNOT_OVERWRITE_MEDIA", "Media already uploaded");
                }
              } else if (existing) {
                return Error::unknown("Media id collision; try again");
              }
              HAVEN_TRY(check(media::put_media(txn, record)));
              return record;
            },
            [ex, reply](Result<MediaRecord> r) {
              if (!r.ok()) return ex->reply_error(r.error());
              reply(*r);
            });
      });
}

// POST /_matrix/media/v3/upload
void upload_content(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto req = read_upload(ctx, *ex);
  if (!req.ok()) return ex->reply_error(req.error());
  store_upload(ctx, ex, who, std::move(*req), std::nullopt,
               [&ctx, ex](const MediaRecord& record) {
                 auto body = json::object();
                 json::set(body, "content_uri", mxc_uri(ctx, record.media_id),
                           body.GetAllocator());
                 ex->reply_json(200, body);
               });
}

// PUT /_matrix/media/v3/upload/{serverName}/{mediaId}
void upload_content_to_mxc(ServerContext& ctx, const http::ExchangePtr& ex,
                           const Requester& who) {
  auto media_id = local_media_id(ctx, *ex);
  if (!media_id.ok()) return ex->reply_error(media_id.error());
  // Refuse early what the write job would refuse, before the body is written to disk.
  {
    auto txn = ctx.store->begin_read();
    if (!txn) return ex->reply_error(Error::unknown("Storage is busy"));
    auto existing = media::get_media(*txn, *media_id);
    if (!existing || (existing->pending() && existing->unused_expires_at <= now_ms())) {
      return ex->reply_error(Error::not_found("Unknown or expired media id"));
    }
    if (existing->uploader != who.user_id) {
      return ex->reply_error(Error::forbidden("This media id was created by another user"));
    }
    if (!existing->pending()) {
      return ex->reply_error(
          Error::with(409, "M_CANNOT_OVERWRITE_MEDIA", "Media already uploaded"));
    }
  }
  auto req = read_upload(ctx, *ex);
  if (!req.ok()) return ex->reply_error(req.error());
  store_upload(ctx, ex, who, std::move(*req), *media_id,
               [ex](const MediaRecord&) { ex->reply_json(200, "{}"); });
}

// POST /_matrix/media/v1/create
void create_content(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  MediaRecord record;
  record.media_id = media::new_media_id();
  record.uploader = who.user_id;
  record.created_ts = now_ms();
  record.unused_expires_at = record.created_ts + kReservationLifetimeMs;
  record.restricted = ctx.config.media_freeze_legacy_media;
  write<MediaRecord>(
      *ctx.store,
      [record](storage::WriteTxn& txn) -> Result<MediaRecord> {
        HAVEN_TRY(check(media::purge_expired(txn, record.uploader, record.created_ts)));
        if (media::count_pending(txn, record.uploader, record.created_ts) >= kMaxPendingUploads) {
          auto e = Error::limit_exceeded(60'000);
          e.message = "Too many pending uploads";
          return e;
        }
        if (media::get_media(txn, record.media_id)) {
          return Error::unknown("Media id collision; try again");
        }
        HAVEN_TRY(check(media::put_media(txn, record)));
        return record;
      },
      [&ctx, ex](Result<MediaRecord> r) {
        if (!r.ok()) return ex->reply_error(r.error());
        auto body = json::object();
        json::set(body, "content_uri", mxc_uri(ctx, r->media_id), body.GetAllocator());
        json::set(body, "unused_expires_at", r->unused_expires_at, body.GetAllocator());
        ex->reply_json(200, body);
      });
}

// GET /_matrix/client/v1/media/download/{serverName}/{mediaId}[/{fileName}]
// GET /_matrix/media/v3/download/{serverName}/{mediaId}[/{fileName}] (legacy)
void download(ServerContext& ctx, const http::ExchangePtr& ex, bool legacy, bool named) {
  auto media_id = local_media_id(ctx, *ex);
  if (!media_id.ok()) return ex->reply_error(media_id.error());
  std::string filename;
  if (named) {
    filename = ex->params[2];
    if (auto s = check_filename(filename); !s.ok()) return ex->reply_error(s.error());
  }
  auto timeout = timeout_of(*ex);
  if (!timeout.ok()) return ex->reply_error(timeout.error());
  await_media(ctx, ex, *media_id, legacy, now_ms() + *timeout,
              [&ctx, ex, filename](const MediaRecord& record) {
                serve_blob(ctx, ex, record.sha256, record.content_type,
                           filename.empty() ? record.upload_name : filename);
              });
}

struct ThumbnailRequest {
  int width = 0;
  int height = 0;
  media::ThumbnailMethod method = media::ThumbnailMethod::kScale;
  std::string method_name = "scale";
};

Result<ThumbnailRequest> thumbnail_request(const http::Exchange& ex) {
  ThumbnailRequest req;
  for (auto [name, out] : {std::pair{"width", &req.width}, std::pair{"height", &req.height}}) {
    auto v = ex.query(name);
    if (!v) return Error::missing_param(std::string("Missing ") + name);
    auto n = parse_decimal(*v);
    if (!n || *n < 1 || *n > media::kMaxThumbnailSide) {
      return Error::invalid_param(std::string(name) + " must be an integer from 1 to " +
                                  std::to_string(media::kMaxThumbnailSide));
    }
    *out = static_cast<int>(*n);
  }
  if (auto m = ex.query("method"); m) {
    if (*m == "crop") {
      req.method = media::ThumbnailMethod::kCrop;
    } else if (*m != "scale") {
      return Error::invalid_param("method must be crop or scale");
    }
    req.method_name = *m;
  }
  return req;
}

// A thumbnail made on a worker: stored as a blob, or the original when it is small enough.
struct MadeThumbnail {
  bool use_original = false;
  media::ThumbnailRecord record;
};

// GET /_matrix/client/v1/media/thumbnail/{serverName}/{mediaId}
// GET /_matrix/media/v3/thumbnail/{serverName}/{mediaId} (legacy)
void thumbnail(ServerContext& ctx, const http::ExchangePtr& ex, bool legacy) {
  auto media_id = local_media_id(ctx, *ex);
  if (!media_id.ok()) return ex->reply_error(media_id.error());
  auto req = thumbnail_request(*ex);
  if (!req.ok()) return ex->reply_error(req.error());
  auto timeout = timeout_of(*ex);
  if (!timeout.ok()) return ex->reply_error(timeout.error());
  await_media(ctx, ex, *media_id, legacy, now_ms() + *timeout, [&ctx, ex, req = *req](
                                                                   const MediaRecord& record) {
    std::string type = essence(record.content_type);
    // Encrypted attachments are application/octet-stream and never get here.
    if (!media::can_thumbnail(type)) {
      return ex->reply_error(Error::not_found("No thumbnail for this media"));
    }
    {
      auto txn = ctx.store->begin_read();
      if (!txn) return ex->reply_error(Error::unknown("Storage is busy"));
      auto cached =
          media::get_thumbnail(*txn, record.media_id, req.width, req.height, req.method_name);
      if (cached) return serve_blob(ctx, ex, cached->sha256, cached->content_type, "");
    }
    const media::MediaStore* store = ctx.media;
    auto path = store->blob_path(record.sha256);
    if (!path) return ex->reply_error(Error::not_found("Media content is missing"));
    ctx.workers->run<Result<MadeThumbnail>>(
        *ctx.loop,
        [store, path = *path, type, req]() -> Result<MadeThumbnail> {
          auto thumb = media::make_thumbnail(path, type, req.width, req.height, req.method);
          if (!thumb.ok()) return thumb.error();
          MadeThumbnail made;
          if (thumb->use_original) {
            made.use_original = true;
            return made;
          }
          auto blob = store->write_blob(thumb->bytes);
          if (!blob.ok()) return blob.error();
          made.record = {blob->sha256, thumb->content_type, blob->size, thumb->width,
                         thumb->height};
          return made;
        },
        [&ctx, ex, record, req](Result<MadeThumbnail> made) {
          if (!made.ok()) return ex->reply_error(made.error());
          if (made->use_original) {
            return serve_blob(ctx, ex, record.sha256, record.content_type, "");
          }
          auto thumb = made->record;
          write<bool>(
              *ctx.store,
              [media_id = record.media_id, req, thumb](storage::WriteTxn& txn) -> Result<bool> {
                // Bounded per media, so odd sizes cannot fill the disk; beyond it, uncached.
                if (media::count_thumbnails(txn, media_id) >= kMaxThumbnailsPerMedia) return false;
                HAVEN_TRY(check(media::put_thumbnail(txn, media_id, req.width, req.height,
                                                     req.method_name, thumb)));
                return true;
              },
              [&ctx, ex, thumb](Result<bool> r) {
                if (!r.ok()) return ex->reply_error(r.error());
                serve_blob(ctx, ex, thumb.sha256, thumb.content_type, "");
              });
        });
  });
}

// GET /_matrix/client/v1/media/config, GET /_matrix/media/v3/config
void get_config(ServerContext& ctx, const http::ExchangePtr& ex, const Requester&) {
  auto body = json::object();
  json::set(body, "m.upload.size", static_cast<int64_t>(upload_limit(ctx)), body.GetAllocator());
  ex->reply_json(200, body);
}

// Like add_authed, for routes whose body is an upload (bounded by the upload limit, not copied).
void add_authed_upload(http::Router& router, ServerContext& ctx, const std::string& method,
                       const std::string& path, AuthedHandler handler) {
  router.add_upload(method, path,
                    [&ctx, handler = std::move(handler)](const http::ExchangePtr& ex) {
                      auto who = authenticate(ctx, *ex);
                      if (!who.ok()) return ex->reply_error(who.error());
                      handler(ex, who.value());
                    });
}

}  // namespace

void register_media_routes(http::Router& r, ServerContext& ctx) {
  const std::string v1 = "/_matrix/client/v1/media";
  const std::string legacy = "/_matrix/media/v3";
  add_authed_upload(r, ctx, "POST", legacy + "/upload",
                    [&ctx](auto& ex, auto& who) { upload_content(ctx, ex, who); });
  add_authed_upload(r, ctx, "PUT", legacy + "/upload/{serverName}/{mediaId}",
                    [&ctx](auto& ex, auto& who) { upload_content_to_mxc(ctx, ex, who); });
  add_authed(r, ctx, "POST", "/_matrix/media/v1/create",
             [&ctx](auto& ex, auto& who) { create_content(ctx, ex, who); });

  add_authed(r, ctx, "GET", v1 + "/download/{serverName}/{mediaId}",
             [&ctx](auto& ex, auto&) { download(ctx, ex, false, false); });
  add_authed(r, ctx, "GET", v1 + "/download/{serverName}/{mediaId}/{fileName}",
             [&ctx](auto& ex, auto&) { download(ctx, ex, false, true); });
  add_authed(r, ctx, "GET", v1 + "/thumbnail/{serverName}/{mediaId}",
             [&ctx](auto& ex, auto&) { thumbnail(ctx, ex, false); });
  add_authed(r, ctx, "GET", v1 + "/config",
             [&ctx](auto& ex, auto& who) { get_config(ctx, ex, who); });

  // Deprecated since Matrix 1.11: no access token, and frozen for media uploaded since.
  r.add("GET", legacy + "/download/{serverName}/{mediaId}",
        [&ctx](const http::ExchangePtr& ex) { download(ctx, ex, true, false); });
  r.add("GET", legacy + "/download/{serverName}/{mediaId}/{fileName}",
        [&ctx](const http::ExchangePtr& ex) { download(ctx, ex, true, true); });
  r.add("GET", legacy + "/thumbnail/{serverName}/{mediaId}",
        [&ctx](const http::ExchangePtr& ex) { thumbnail(ctx, ex, true); });
  add_authed(r, ctx, "GET", legacy + "/config",
             [&ctx](auto& ex, auto& who) { get_config(ctx, ex, who); });
}

}  // namespace haven::client
