// LmdbStore: the embedded LMDB implementation of Store. One environment, one named database per
// Table, read transactions on any thread, one writer thread that group-commits queued jobs.
//
// Threads: every member may be called from any thread, with these exceptions. A ReadTxn must be
// destroyed on the thread that began it, and before close(); close() waits for open ReadTxns.
// Do not hold a ReadTxn while calling run() (growing the map waits for readers). Never call
// run() or close() from inside a job or from a `done` run inline on the writer thread.
// Jobs may be run more than once (a batch is retried after the map grows), so a job's only
// effects must be its writes through the WriteTxn. One process per environment.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "storage/store.h"

namespace haven::storage {

class LmdbStore : public Store {
 public:
  // Opens (creating if needed) the environment in options.path and starts the writer thread.
  // `post` delivers each job's `done`; if empty, `done` runs on the writer thread.
  // Returns nullptr and fills `error` on failure.
  static std::unique_ptr<LmdbStore> open(const StoreOptions& options, Post post,
                                         std::string* error);

  // Rewrites the environment in `path` without its free pages (LMDB's compacting copy into a
  // temporary file, synced, then renamed over data.mdb), so bytes of deleted or overwritten
  // rows that freed pages still hold are gone. Only while no store has the environment open.
  static Status compact(const std::string& path);

  // Current size of the memory map in bytes (grows by doubling up to max_map_size).
  virtual uint64_t map_size() const = 0;
  // Write transactions committed since open: one per batch (group commit).
  virtual uint64_t commit_count() const = 0;
};

}  // namespace haven::storage
