#include "homeserver/media/thumbnailer.h"

#include <vips/vips.h>

#include <memory>
#include <optional>
#include <string_view>

namespace haven::media {

namespace {

struct GObjectUnref {
  void operator()(VipsImage* image) const { g_object_unref(image); }
};
using ImagePtr = std::unique_ptr<VipsImage, GObjectUnref>;

bool init_vips() {
  static bool ok = [] {
    if (VIPS_INIT("haven") != 0) return false;
    // Thumbnails run on our worker pool; libvips must not start threads or keep images around.
    vips_concurrency_set(1);
    vips_cache_set_max(0);
    // Only the loaders for the formats we thumbnail anyway may parse untrusted input.
    vips_block_untrusted_set(TRUE);
    return true;
  }();
  return ok;
}

Error vips_failure(const std::string& what) {
  vips_error_clear();  // the message may quote file contents; it is not passed on
  return Error::with(400, "M_UNKNOWN", what);
}

// The file's real format, whatever its declared content type: JPEG, PNG, GIF or WebP only.
std::optional<bool> is_jpeg_file(const std::string& path) {
  const char* loader = vips_foreign_find_load(path.c_str());
  if (!loader) {
    vips_error_clear();
    return std::nullopt;
  }
  std::string_view name(loader);
  if (name.find("Jpeg") != std::string_view::npos) return true;
  for (std::string_view ok : {"Png", "Gif", "Webp"}) {
    if (name.find(ok) != std::string_view::npos) return false;
  }
  return std::nullopt;
}

}  // namespace

bool can_thumbnail(std::string_view content_type) {
  return content_type == "image/jpeg" || content_type == "image/png" ||
         content_type == "image/gif" || content_type == "image/webp";
}

Result<Thumbnail> make_thumbnail(const std::string& path, std::string_view content_type,
                                 int width, int height, ThumbnailMethod method) {
  if (!can_thumbnail(content_type)) return Error::not_found("No thumbnail for this content type");
  if (width < 1 || height < 1 || width > kMaxThumbnailSide || height > kMaxThumbnailSide) {
    return Error::invalid_param("Thumbnail size out of range");
  }
  if (!init_vips()) return Error::unknown("Thumbnails are not available");
  auto jpeg = is_jpeg_file(path);
  if (!jpeg) return vips_failure("Cannot thumbnail this content");

  // Reads the header only, to refuse decompression bombs before any pixel is decoded.
  ImagePtr header(vips_image_new_from_file(path.c_str(), "access", VIPS_ACCESS_SEQUENTIAL,
                                           nullptr));
  if (!header) return vips_failure("Cannot thumbnail this content");
  const int64_t src_w = vips_image_get_width(header.get());
  const int64_t src_h = vips_image_get_height(header.get());
  if (src_w < 1 || src_h < 1) return vips_failure("Cannot thumbnail this content");
  if (src_w * src_h > kMaxSourcePixels) {
    return Error::too_large("Content is too large to thumbnail");
  }
  header.reset();

  Thumbnail out;
  if (src_w <= width && src_h <= height) {
    out.use_original = true;
    out.width = static_cast<int>(src_w);
    out.height = static_cast<int>(src_h);
    return out;
  }

  VipsImage* raw = nullptr;
  int rc = method == ThumbnailMethod::kCrop
               ? vips_thumbnail(path.c_str(), &raw, width, "height", height, "size",
                                VIPS_SIZE_DOWN, "crop", VIPS_INTERESTING_CENTRE, nullptr)
               : vips_thumbnail(path.c_str(), &raw, width, "height", height, "size",
                                VIPS_SIZE_DOWN, nullptr);
  if (rc != 0 || !raw) return vips_failure("Cannot thumbnail this content");
  ImagePtr image(raw);

  void* buf = nullptr;
  size_t len = 0;
  if (*jpeg) {
    rc = vips_jpegsave_buffer(image.get(), &buf, &len, "Q", 85, "strip", TRUE, nullptr);
    out.content_type = "image/jpeg";
  } else {
    rc = vips_pngsave_buffer(image.get(), &buf, &len, "strip", TRUE, nullptr);
    out.content_type = "image/png";
  }
  if (rc != 0 || !buf) return vips_failure("Cannot encode the thumbnail");
  out.bytes.assign(static_cast<const char*>(buf), len);
  g_free(buf);
  out.width = vips_image_get_width(image.get());
  out.height = vips_image_get_height(image.get());
  return out;
}

}  // namespace haven::media
