// The content repository's header rules, as pure functions: which upload Content-Types and file
// names are accepted, and the Content-Disposition a download gets (inline only for the safe
// types; hostile names cannot break out of the header). Any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "homeserver/base/result.h"

namespace haven::media {

constexpr size_t kMaxFilenameBytes = 255;
constexpr size_t kMaxContentTypeBytes = 255;
constexpr char kDefaultContentType[] = "application/octet-stream";

// "type/subtype" of a Content-Type, lowercased, parameters dropped.
std::string content_type_essence(std::string_view content_type);

// Whether a download of this content type (any case, parameters allowed) may be shown inline:
// the spec's list of safe types. Everything else is an attachment.
bool is_inline_content_type(std::string_view content_type);

// The Content-Type to store for an upload's header: type "/" subtype as RFC 9110 tokens,
// optional parameters of printable ASCII, at most kMaxContentTypeBytes. Missing or empty means
// application/octet-stream. M_INVALID_PARAM otherwise.
Result<std::string> upload_content_type(const std::optional<std::string>& header);

// A file name given at upload or in a download path: UTF-8 without control characters, at most
// kMaxFilenameBytes. M_INVALID_PARAM otherwise.
Status check_filename(std::string_view name);

// RFC 6266: "inline" or "attachment"; the name as a plain token when it is one, else
// percent-encoded UTF-8 in filename*=utf-8''..., so quotes, semicolons, CR/LF or non-ASCII in
// `filename` cannot end the header or add a parameter.
std::string content_disposition(std::string_view content_type, std::string_view filename);

}  // namespace haven::media
