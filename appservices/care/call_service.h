// Calls in temporary conversations (R22, R23): haven-care follows the call signals of the rooms
// it manages (from its appservice transactions; it is a member of each), keeps the calls in
// progress and the ledger of ended ones in its LMDB, holds a room's deletion while a call runs
// and moves it to one hour after the call ended, and answers the call-minutes queries of
// professionals and of the operator. All calls run on haven-care's single worker thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "appservices/care/call_store.h"
#include "appservices/care/clock.h"
#include "appservices/care/haven_api.h"
#include "appservices/care/temporary_service.h"
#include "appservices/care/temporary_store.h"

namespace haven::care {

// A temporary conversation is deleted this long after its last call ended (R22).
inline constexpr int64_t kDeleteAfterCallMs = 3600 * 1000;
// At most this many calls are listed in one answer; the totals count them all.
inline constexpr size_t kMaxListedCalls = 1000;

// The ?from=&to= of a call-minutes query: calls that started at or after `from_ms` and before
// `to_ms` (ms since the epoch).
struct CallRange {
  int64_t from_ms = 0;
  int64_t to_ms = INT64_MAX;
};
Result<CallRange> parse_call_range(const std::optional<std::string>& from,
                                   const std::optional<std::string>& to);

class CallService {
 public:
  CallService(const Clock& clock, HavenApi& haven, CallStore& calls, TemporaryStore& rooms,
              TemporaryService& temporary)
      : clock_(clock), haven_(haven), calls_(calls), rooms_(rooms), temporary_(temporary) {}

  // An event haven sent in a transaction; only call signals and leaves in temporary
  // conversations matter.
  void on_event(const json::Value& event);
  // Memberships that lapsed and invites that rang out; deletion times not announced yet.
  void sweep();

  // GET /_haven/care/v1/call_minutes: the calls of the professional's conversations.
  Result<json::Document> own_minutes(const std::string& user_token, const CallRange& range);
  // GET /_haven/care/v1/admin/call_minutes: every call, totals per professional (server admins).
  Result<json::Document> organisation_minutes(const std::string& user_token, const CallRange& range,
                                              const std::optional<std::string>& owner);

 private:
  // Saves the room's calls; when its last call ended, its deletion moves and is announced.
  void save(const std::string& room_id, RoomCalls& calls);
  Status require_professional(const std::string& user_token);
  Status require_server_admin(const std::string& user_id);

  const Clock& clock_;
  HavenApi& haven_;
  CallStore& calls_;
  TemporaryStore& rooms_;
  TemporaryService& temporary_;
};

}  // namespace haven::care
