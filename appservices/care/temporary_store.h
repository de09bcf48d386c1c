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
};

class TemporaryStore {
 public:
  explicit TemporaryStore(storage::Store& store) : store_(store) {}

  std::optional<TemporaryRoom> room(const std::string& room_id) const;
  // The rooms whose deletion is due at `now_ms`, at most `limit`.
  std::vector<TemporaryRoom> due(int64_t now_ms, size_t limit) const;
  Status put(const TemporaryRoom& room);
  Status remove(const std::string& room_id);

 private:
  storage::Store& store_;
};

}  // namespace haven::care
