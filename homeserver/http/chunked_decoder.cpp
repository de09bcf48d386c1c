#include "homeserver/http/chunked_decoder.h"

#include <algorithm>

namespace haven::http {

namespace {
// A size line with extensions, or one trailer field, longer than this is refused.
constexpr size_t kMaxLineBytes = 4096;
// 16 hex digits overflow nothing; more could.
constexpr size_t kMaxSizeDigits = 15;

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

bool ChunkedDecoder::take_line(std::string_view& bytes) {
  auto lf = bytes.find('\n');
  size_t take = lf == std::string_view::npos ? bytes.size() : lf + 1;
  line_.append(bytes.substr(0, take));
  bytes.remove_prefix(take);
  if (line_.size() > kMaxLineBytes) {
    state_ = State::kMalformed;
    return false;
  }
  if (lf == std::string_view::npos) return false;
  if (line_.size() < 2 || line_[line_.size() - 2] != '\r') {
    state_ = State::kMalformed;  // a bare LF
    return false;
  }
  line_.resize(line_.size() - 2);
  return true;
}

void ChunkedDecoder::on_size_line() {
  // chunk-size [ chunk-ext ] : hex digits, then nothing or ";" extensions (ignored).
  size_t i = 0;
  uint64_t size = 0;
  while (i < line_.size() && hex_digit(line_[i]) >= 0) {
    if (i >= kMaxSizeDigits) {
      state_ = State::kMalformed;
      return;
    }
    size = size * 16 + static_cast<uint64_t>(hex_digit(line_[i]));
    ++i;
  }
  std::string_view rest = std::string_view(line_).substr(i);
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
  if (i == 0 || (!rest.empty() && rest.front() != ';')) {
    state_ = State::kMalformed;
    return;
  }
  chunk_left_ = size;
  step_ = size == 0 ? Step::kTrailer : Step::kData;
}

void ChunkedDecoder::on_trailer_line() {
  if (line_.empty()) state_ = State::kDone;
  // Trailer fields are dropped: nothing here reads them.
}

size_t ChunkedDecoder::feed(std::string_view bytes, const Sink& sink) {
  const size_t given = bytes.size();
  while (state_ == State::kReading && !bytes.empty()) {
    switch (step_) {
      case Step::kSizeLine:
      case Step::kTrailer:
        if (!take_line(bytes)) break;
        if (step_ == Step::kSizeLine) {
          on_size_line();
        } else {
          on_trailer_line();
        }
        line_.clear();
        break;
      case Step::kData: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(chunk_left_, bytes.size()));
        chunk_left_ -= n;
        body_bytes_ += n;
        if (!sink(bytes.substr(0, n))) state_ = State::kStopped;
        bytes.remove_prefix(n);
        if (chunk_left_ == 0) step_ = Step::kDataEnd;
        break;
      }
      case Step::kDataEnd:
        if (!take_line(bytes)) break;
        if (!line_.empty()) state_ = State::kMalformed;  // data longer than its size said
        line_.clear();
        step_ = Step::kSizeLine;
        break;
    }
  }
  return given - bytes.size();
}

}  // namespace haven::http
