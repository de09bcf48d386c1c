// Randomness from libsodium's CSPRNG. Any thread.
#pragma once

#include <cstddef>
#include <string>

namespace haven::crypto {

std::string random_bytes(size_t n);
// `n` characters from [A-Za-z0-9]: access tokens, device ids, txn ids, nonces.
std::string random_token(size_t n);

}  // namespace haven::crypto
