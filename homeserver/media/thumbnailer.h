// Thumbnails of uploaded images with libvips: "scale" fits within the box keeping the aspect,
// "crop" fills the box and cuts the centre out; never upscaled. CPU-heavy: worker threads only
// (libvips is thread-safe once initialised; make_thumbnail initialises it on first use).
#pragma once

#include <string>
#include <string_view>

#include "homeserver/base/result.h"

namespace haven::media {

enum class ThumbnailMethod { kScale, kCrop };

constexpr int kMaxThumbnailSide = 1600;
// Images with more pixels than this are not decoded at all (decompression bombs).
constexpr int64_t kMaxSourcePixels = 32 * 1024 * 1024;

struct Thumbnail {
  // True when the source already fits in the requested box: serve the original instead.
  bool use_original = false;
  std::string bytes;
  std::string content_type;  // image/jpeg for JPEG sources, image/png for the rest
  int width = 0;
  int height = 0;
};

// Whether thumbnails are made for this (lowercase, parameter-free) content type.
bool can_thumbnail(std::string_view content_type);

// Thumbnails the image file at `path`. M_TOO_LARGE (413) for images over kMaxSourcePixels,
// M_UNKNOWN (400) for files libvips cannot decode.
Result<Thumbnail> make_thumbnail(const std::string& path, std::string_view content_type,
                                 int width, int height, ThumbnailMethod method);

}  // namespace haven::media
