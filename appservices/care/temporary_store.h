// haven-care's records of temporary conversations (R19-R22): each room's owner and when it is
// to be deleted, in its own LMDB environment. Records only (temporary_service.h has the rules).
// Reads from any thread; writes block until durable, so they are for the worker thread only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "homeserver/base/result.h"
#include "storage/store.h"

namespace haven::care {

struct TemporaryRoom {
  std::string room_id;  // key
  std::string owner;
  int64_t created_ms = 0;
  int64_t deletes_ms = 0;  // haven-care's clock
  bool in_call = false;    // a call is in progress: not deleted, whatever deletes_ms says
  // The deletes_ms last announced in the org.haven.temporary state event.
  int64_t announced_ms = 0;
};

class TemporaryStore {
 public:
  explicit TemporaryStore(storage::Store& store) : store_(store) {}

  std::optional<TemporaryRoom> room(const std::string& room_id) const;
  // The rooms whose deletion is due at `now_ms` (and no call is in progress), at most `limit`.
  std::vector<TemporaryRoom> due(int64_t now_ms, size_t limit) const;
  // The rooms whose deletion time moved since it was last announced, at most `limit`.
  std::vector<TemporaryRoom> unannounced(size_t limit) const;
  Status put(const TemporaryRoom& room);
  Status remove(const std::string& room_id);
  // put() inside a caller's write transaction (to change the record with other records).
  static storage::Status put_in(storage::WriteTxn& txn, const TemporaryRoom& room);

 private:
  storage::Store& store_;
};

}  // namespace haven::care
