// Sealed values: content stored encrypted with its scope's (its room's) at-rest key, so that
// destroying the key (WriteTxn::destroy_at_rest_key) makes every copy unreadable, including the
// copies LMDB leaves in freed pages. Callers pick what to seal; keys and indexes stay plain.
// seal() inside a Store job (writer thread); open_sealed() on any transaction, any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "storage/store.h"

namespace haven::storage {

// `plaintext` sealed (XChaCha20-Poly1305, random nonce) with the key of `scope`, created if the
// scope has none; bound to (scope, record_key) so it cannot be moved to another record.
// nullopt and `status` on an I/O error.
std::optional<std::string> seal(WriteTxn& txn, std::string_view scope, std::string_view record_key,
                                std::string_view plaintext, Status* status);

// The plaintext of a value made by seal() with the same scope and record key, or nullopt if the
// scope's key is gone or the value was altered or belongs elsewhere.
std::optional<std::string> open_sealed(ReadTxn& txn, std::string_view scope,
                                       std::string_view record_key, std::string_view sealed);

}  // namespace haven::storage
