// Internal to crypto/: makes sure libsodium is initialised before any of its functions run.
// Any thread; the first caller initialises, later callers only read a flag.
#pragma once

namespace haven::crypto::detail {

// Calls sodium_init() exactly once per process (a function-local static); aborts if libsodium
// cannot initialise, since no crypto in the server is safe without it.
void ensure_sodium();

}  // namespace haven::crypto::detail
