#include "crypto/base64.h"

#include <sodium.h>

#include <cstring>

namespace haven::crypto {
namespace {

constexpr char kStandardAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrlsafeAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string encode(std::string_view bytes, int variant) {
  std::string out(sodium_base64_encoded_len(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), variant);
  out.resize(out.size() - 1);  // the encoded length counts the terminating NUL
  return out;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  return encode(bytes, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

std::string base64_encode_urlsafe(std::string_view bytes) {
  return encode(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

std::optional<std::string> base64_decode(std::string_view text) {
  // libsodium decodes one alphabet at a time, so pick it from the text; mixing is refused.
  const bool standard = text.find_first_of("+/") != std::string_view::npos;
  const bool urlsafe = text.find_first_of("-_") != std::string_view::npos;
  if (standard && urlsafe) return std::nullopt;
  const char* alphabet = urlsafe ? kUrlsafeAlphabet : kStandardAlphabet;

  // Padding is optional, but when present it must be exactly what RFC 4648 would write.
  const size_t data_len = text.find_last_not_of('=') + 1;  // npos + 1 == 0 for all-'='
  const size_t padding = text.size() - data_len;
  if (padding > 0 && (data_len + padding) % 4 != 0) return std::nullopt;
  if (padding > 2 || data_len % 4 == 1) return std::nullopt;

  // libsodium refuses non-zero unused bits in the last character, but other implementations
  // write them: the spec's own test seed "...MW+3XA1" has them. Clear them first.
  std::string data(text.substr(0, data_len));
  if (data_len % 4 != 0) {
    const unsigned used_mask = data_len % 4 == 2 ? 0x30 : 0x3C;
    if (const char* p = std::strchr(alphabet, data.back()); p && *p != '\0') {
      data.back() = alphabet[(p - alphabet) & used_mask];
    }
  }

  const int variant = urlsafe ? sodium_base64_VARIANT_URLSAFE_NO_PADDING
                              : sodium_base64_VARIANT_ORIGINAL_NO_PADDING;
  std::string out(data_len / 4 * 3 + 2, '\0');
  size_t len = 0;
  // No characters to ignore and a null end pointer: any character outside the alphabet fails.
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), data.data(),
                        data.size(), nullptr, &len, nullptr, variant) != 0) {
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

}  // namespace haven::crypto
