// The parameters of a thumbnail request (width, height, method of the query string), checked.
// Pure; any thread.
#pragma once

#include <optional>
#include <string>

#include "homeserver/base/result.h"
#include "homeserver/media/thumbnailer.h"

namespace haven::media {

struct ThumbnailRequest {
  int width = 0;
  int height = 0;
  ThumbnailMethod method = ThumbnailMethod::kScale;
  std::string method_name = "scale";  // part of the thumbnail cache key
};

// width and height are required integers from 1 to kMaxThumbnailSide (M_MISSING_PARAM,
// M_INVALID_PARAM); method is "scale" (the default) or "crop" (M_INVALID_PARAM otherwise).
Result<ThumbnailRequest> parse_thumbnail_request(const std::optional<std::string>& width,
                                                 const std::optional<std::string>& height,
                                                 const std::optional<std::string>& method);

}  // namespace haven::media
