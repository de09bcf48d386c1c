// The versioned byte format in which Olm accounts and sessions and Megolm sessions are stored
// (crypto/olm_account.h, olm_session.h, megolm_inbound.h): fixed-size fields, big-endian
// integers, no padding. It holds private keys: callers seal it before it reaches disk.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/olm_primitives.h"

namespace haven::crypto::olm {

class PickleWriter {
 public:
  ~PickleWriter();  // the buffer is wiped unless taken
  void u8(uint8_t value) { out_ += static_cast<char>(value); }
  void u32(uint32_t value);
  void bytes(std::string_view value) { out_ += value; }  // fixed size: the reader knows it
  void key(const SecretKey& key) { out_ += key.view(); }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// Reads fields in order; once a read runs past the end, every later read fails too.
class PickleReader {
 public:
  explicit PickleReader(std::string_view in) : in_(in) {}
  std::optional<uint8_t> u8();
  std::optional<uint32_t> u32();
  std::optional<std::string> bytes(size_t length);
  std::optional<SecretKey> key();
  bool at_end() const { return in_.empty(); }

 private:
  std::string_view in_;
};

}  // namespace haven::crypto::olm
