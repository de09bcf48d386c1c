// Reads a named storage counter (the one WriteTxn::next_counter advances) through a ReadTxn,
// which has no accessor for it: the stream positions /sync reports. Internal to
// homeserver/sync; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/keys.h"
#include "storage/store.h"

namespace haven::streams {

// storage keeps counters in kMeta under "counter:<name>" as a big-endian u64 (fixed by
// lmdb_store_test's counter test). Replace with a ReadTxn accessor if storage grows one.
inline uint64_t stream_counter(storage::ReadTxn& txn, std::string_view name) {
  std::string key = storage::KeyBuilder().tail("counter:").tail(name).take();
  auto value = txn.get(storage::Table::kMeta, key);
  if (!value) return 0;
  return storage::decode_u64(*value).value_or(0);
}

}  // namespace haven::streams
