#include "crypto/sodium_init.h"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>

namespace haven::crypto::detail {

void ensure_sodium() {
  // C++ guarantees the initialiser of a function-local static runs once, even when several
  // threads arrive together. sodium_init() returns 1 when it was already initialised.
  static const bool initialised = [] {
    if (sodium_init() < 0) {
      std::fputs("haven: libsodium failed to initialise\n", stderr);
      std::abort();
    }
    return true;
  }();
  (void)initialised;
}

}  // namespace haven::crypto::detail
