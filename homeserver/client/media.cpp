// Client-Server API: the content repository. Uploads (direct, and reserve-then-PUT; a care
// guest's are tied to their one room, for its purge), downloads and thumbnails under the
// authenticated /_matrix/client/v1/media/ routes, and the deprecated unauthenticated
// /_matrix/media/v3/ downloads, which do not serve media uploaded while
// media.freeze_legacy_media is on.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "homeserver/base/write.h"
#include "homeserver/client/routes.h"
#include "homeserver/media/byte_range.h"
#include "homeserver/media/content_headers.h"
#include "homeserver/media/media_store.h"
#include "homeserver/media/thumbnail_request.h"
#include "homeserver/media/thumbnailer.h"
#include "homeserver/rooms/event_store.h"

namespace haven::client {

namespace {

using media::MediaRecord;
using media::parse_decimal;

constexpr size_t kMaxPendingUploads = 10;
constexpr int64_t kReservationLifetimeMs = 24 * 60 * 60 * 1000;
constexpr int64_t kDefaultTimeoutMs = 20'000;
constexpr int64_t kMaxTimeoutMs = 120'000;
constexpr int64_t kPollIntervalMs = 250;
constexpr size_t kMaxThumbnailsPerMedia = 32;

// Downloads may be opened by a browser on the homeserver's origin: they may run nothing.
constexpr char kContentSecurityPolicy[] =
    "sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf; "
    "style-src 'unsafe-inline'; media-src 'self'; object-src 'self';";

using Headers = std::vector<std::pair<std::string, std::string>>;

uint64_t upload_limit(const ServerContext& ctx) { return ctx.config.media_max_upload_size_mb << 20; }

std::string mxc_uri(const ServerContext& ctx, const std::string& media_id) {
  return "mxc://" + ctx.server_name + "/" + media_id;
}

Headers download_headers(std::string_view content_type, std::string_view filename) {
  return {{"Content-Disposition", media::content_disposition(content_type, filename)},
          {"Content-Security-Policy", kContentSecurityPolicy},
          {"X-Content-Type-Options", "nosniff"},
          {"Cross-Origin-Resource-Policy", "cross-origin"},
          {"Accept-Ranges", "bytes"}};
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
  auto range = media::parse_range(ex->header("Range"), size);
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

// A guest's token reaches one conversation only, so what they upload belongs to that room: tied
// to it here, purging the room removes the upload even when only encrypted events name it.
storage::Status tie_guest_upload(storage::WriteTxn& txn, const std::string& guest_room,
                                 const std::string& server_name, const std::string& media_id) {
  if (guest_room.empty() || !rooms::get_room(txn, guest_room)) return storage::Status::ok_status();
  return rooms::link_room_media(txn, guest_room, server_name, media_id);
}

// Moves a spooled upload body into the store. Worker thread.
Result<media::StoredBlob> store_body(const media::MediaStore& store, http::SpooledBody& body) {
  auto blob = store.store_temp_file(body.fd(), body.path());
  if (blob.ok()) body.disown();
  return blob;
}

// What an upload stores, checked before it is stored. The server has bounded the body by the
// upload limit already (413 M_TOO_LARGE), while it arrived.
struct UploadRequest {
  std::string content_type;
  std::string filename;
  std::shared_ptr<http::SpooledBody> body;
};

Result<UploadRequest> read_upload(http::Exchange& ex) {
  UploadRequest req;
  req.body = ex.take_upload();
  if (!req.body) return Error::unknown("The upload body was not received");
  auto type = media::upload_content_type(ex.header("Content-Type"));
  if (!type.ok()) return type.error();
  req.content_type = std::move(*type);
  if (auto name = ex.query("filename"); name) {
    HAVEN_TRY(media::check_filename(*name));
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
      *ctx.loop, [store, body] { return store_body(*store, *body); },
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
            [record, reserved = reserved_id.has_value(), guest_room = who.guest_room,
             server_name = ctx.server_name](storage::WriteTxn& txn) -> Result<MediaRecord> {
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
              HAVEN_TRY(check(tie_guest_upload(txn, guest_room, server_name, record.media_id)));
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
  auto req = read_upload(*ex);
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
  auto req = read_upload(*ex);
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
      [record, guest_room = who.guest_room,
       server_name = ctx.server_name](storage::WriteTxn& txn) -> Result<MediaRecord> {
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
        HAVEN_TRY(check(tie_guest_upload(txn, guest_room, server_name, record.media_id)));
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
    if (auto s = media::check_filename(filename); !s.ok()) return ex->reply_error(s.error());
  }
  auto timeout = timeout_of(*ex);
  if (!timeout.ok()) return ex->reply_error(timeout.error());
  await_media(ctx, ex, *media_id, legacy, now_ms() + *timeout,
              [&ctx, ex, filename](const MediaRecord& record) {
                serve_blob(ctx, ex, record.sha256, record.content_type,
                           filename.empty() ? record.upload_name : filename);
              });
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
  auto req = media::parse_thumbnail_request(ex->query("width"), ex->query("height"),
                                           ex->query("method"));
  if (!req.ok()) return ex->reply_error(req.error());
  auto timeout = timeout_of(*ex);
  if (!timeout.ok()) return ex->reply_error(timeout.error());
  await_media(ctx, ex, *media_id, legacy, now_ms() + *timeout, [&ctx, ex, req = *req](
                                                                   const MediaRecord& record) {
    std::string type = media::content_type_essence(record.content_type);
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

// Like add_authed, for routes whose body is an upload (bounded by the upload limit, spooled to
// a file in the media store's tmp directory as it arrives).
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
