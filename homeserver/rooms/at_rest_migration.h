// The one-time start-up migration of a store written before per-room at-rest keys: seals every
// event record that was stored in plain form. Call before serving, from the main thread (it
// waits for the writer); never from the event loop.
#pragma once

#include "storage/store.h"

namespace haven::rooms {

// Seals the plain event records in jobs of a few hundred, then records in kMeta that the store
// is sealed, so later starts skip the scan. `sealed` gets how many records it sealed: their
// plain copies are still in LMDB's freed pages until the environment is compacted
// (LmdbStore::compact). Returns the first storage error.
storage::Status seal_plain_rows_once(storage::Store& store, size_t* sealed = nullptr);

}  // namespace haven::rooms
