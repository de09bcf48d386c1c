#include "homeserver/media/content_headers.h"

#include <algorithm>
#include <cctype>
#include <iterator>

#include "homeserver/rooms/ids.h"

namespace haven::media {

namespace {

// Content types that are safe to show inline (the spec's list for Content-Disposition: inline).
constexpr std::string_view kInlineTypes[] = {
    "text/css",    "text/plain", "text/csv",    "application/json", "application/ld+json",
    "image/jpeg",  "image/gif",  "image/png",   "image/apng",       "image/webp",
    "image/avif",  "video/mp4",  "video/webm",  "video/ogg",        "video/quicktime",
    "audio/mp4",   "audio/webm", "audio/aac",   "audio/mpeg",       "audio/ogg",
    "audio/wave",  "audio/wav",  "audio/x-wav", "audio/x-pn-wav",   "audio/flac",
    "audio/x-flac"};

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// RFC 8187 attr-char: what may stand unencoded in filename*= (and, here, in filename=).
bool is_attr_char(char c) { return is_token_char(c) && c != '%' && c != '\'' && c != '*'; }

}  // namespace

std::string content_type_essence(std::string_view content_type) {
  std::string out(content_type.substr(0, content_type.find(';')));
  while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_inline_content_type(std::string_view content_type) {
  std::string type = content_type_essence(content_type);
  return std::find(std::begin(kInlineTypes), std::end(kInlineTypes), type) !=
         std::end(kInlineTypes);
}

Result<std::string> upload_content_type(const std::optional<std::string>& header) {
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

std::string content_disposition(std::string_view content_type, std::string_view filename) {
  std::string out = is_inline_content_type(content_type) ? "inline" : "attachment";
  if (filename.empty()) return out;
  if (std::all_of(filename.begin(), filename.end(), is_attr_char)) {
    return out + "; filename=" + std::string(filename);
  }
  static const char kHex[] = "0123456789ABCDEF";
  out += "; filename*=utf-8''";
  for (char c : filename) {
    if (is_attr_char(c)) {
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

}  // namespace haven::media
