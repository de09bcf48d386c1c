// haven-care's records of calls (R23), in its own LMDB environment: the calls in progress per
// temporary conversation, and the ledger of ended calls, which outlives the conversation.
// Records only (call_rules.h and call_service.h have the rules). Reads from any thread; writes
// block until durable, so they are for the worker thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "appservices/care/call_rules.h"
#include "appservices/care/temporary_store.h"
#include "homeserver/base/result.h"
#include "storage/store.h"

namespace haven::care {

class CallStore {
 public:
  explicit CallStore(storage::Store& store) : store_(store) {}

  std::vector<LiveCall> live_in_room(const std::string& room_id) const;
  // The rooms with a call in progress or ringing, at most `limit`.
  std::vector<std::string> rooms_with_live_calls(size_t limit) const;
  // Every call in progress or ringing, at most `limit`.
  std::vector<LiveCall> all_live(size_t limit) const;

  // One room's calls after signals were applied, in one transaction: its live calls replaced
  // by `calls.calls`, `calls.ended` added to the ledger (seq assigned), and the conversation's
  // record written when given.
  Status save(const std::string& room_id, RoomCalls& calls,
              const std::optional<TemporaryRoom>& room);

  // Visits the ended calls that started in [from_ms, to_ms), oldest first, only `owner`'s when
  // given, until `visit` returns false.
  void scan_ledger(int64_t from_ms, int64_t to_ms, const std::optional<std::string>& owner,
                   const std::function<bool(const EndedCall&)>& visit) const;

 private:
  storage::Store& store_;
};

}  // namespace haven::care
