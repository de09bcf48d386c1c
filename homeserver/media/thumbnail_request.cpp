#include "homeserver/media/thumbnail_request.h"

#include <tuple>

#include "homeserver/media/byte_range.h"

namespace haven::media {

Result<ThumbnailRequest> parse_thumbnail_request(const std::optional<std::string>& width,
                                                 const std::optional<std::string>& height,
                                                 const std::optional<std::string>& method) {
  ThumbnailRequest req;
  for (auto [name, value, out] :
       {std::tuple{"width", &width, &req.width}, std::tuple{"height", &height, &req.height}}) {
    if (!*value) return Error::missing_param(std::string("Missing ") + name);
    auto n = parse_decimal(**value);
    if (!n || *n < 1 || *n > static_cast<uint64_t>(kMaxThumbnailSide)) {
      return Error::invalid_param(std::string(name) + " must be an integer from 1 to " +
                                  std::to_string(kMaxThumbnailSide));
    }
    *out = static_cast<int>(*n);
  }
  if (method) {
    if (*method == "crop") {
      req.method = ThumbnailMethod::kCrop;
    } else if (*method != "scale") {
      return Error::invalid_param("method must be crop or scale");
    }
    req.method_name = *method;
  }
  return req;
}

}  // namespace haven::media
