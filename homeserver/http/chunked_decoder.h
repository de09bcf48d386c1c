// Decodes a body sent with Transfer-Encoding: chunked (RFC 9112 7.1) as its bytes arrive, in any
// pieces: chunk data goes to a sink, sizes, extensions and trailers are consumed and dropped.
// Holds at most one size or trailer line. One thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace haven::http {

class ChunkedDecoder {
 public:
  // Receives the body's bytes in order; false stops decoding (the sink refused them).
  using Sink = std::function<bool(std::string_view)>;

  enum class State { kReading, kDone, kMalformed, kStopped };

  // Consumes bytes of the encoded body up to its end. Returns how many were used: all of
  // `bytes` while kReading; fewer once kDone (the rest belongs to the next request).
  size_t feed(std::string_view bytes, const Sink& sink);

  State state() const { return state_; }
  // Body bytes decoded so far.
  uint64_t body_bytes() const { return body_bytes_; }

 private:
  enum class Step { kSizeLine, kData, kDataEnd, kTrailer };
  // Takes one line ending in CRLF into line_; false while it has not all arrived.
  bool take_line(std::string_view& bytes);
  void on_size_line();
  void on_trailer_line();

  State state_ = State::kReading;
  Step step_ = Step::kSizeLine;
  std::string line_;
  uint64_t chunk_left_ = 0;
  uint64_t body_bytes_ = 0;
};

}  // namespace haven::http
