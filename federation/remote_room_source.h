// Where the PDU intake gets room events it is missing: another server's /get_missing_events,
// /state_ids and /event (FederationRoomSource), or a test double. Answers are the servers'
// words, unchecked: the intake checks every event it gets. Loop thread only; `done` runs on
// the loop thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "federation/client.h"
#include "homeserver/base/result.h"

namespace haven::federation {

struct RemoteStateIds {
  std::vector<std::string> pdu_ids;         // the state before the event
  std::vector<std::string> auth_chain_ids;  // the auth chain of that state
};

class RemoteRoomSource {
 public:
  virtual ~RemoteRoomSource() = default;
  // PDUs as JSON texts.
  using EventsDone = std::function<void(Result<std::vector<std::string>>)>;
  using StateIdsDone = std::function<void(Result<RemoteStateIds>)>;
  using EventDone = std::function<void(Result<std::string>)>;

  // POST /_matrix/federation/v1/get_missing_events/{roomId}: the events before `latest` that
  // `server` has and this one lacks, stopping at `earliest`.
  virtual void get_missing_events(const std::string& server, const std::string& room_id,
                                  const std::vector<std::string>& earliest,
                                  const std::vector<std::string>& latest, int limit,
                                  int64_t min_depth, EventsDone done) = 0;
  // GET /_matrix/federation/v1/state_ids/{roomId}?event_id=
  virtual void state_ids(const std::string& server, const std::string& room_id,
                         const std::string& event_id, StateIdsDone done) = 0;
  // GET /_matrix/federation/v1/event/{eventId}
  virtual void event(const std::string& server, const std::string& event_id, EventDone done) = 0;
};

// The real thing, over the federation client.
class FederationRoomSource : public RemoteRoomSource {
 public:
  explicit FederationRoomSource(FederationClient& client) : client_(client) {}
  void get_missing_events(const std::string& server, const std::string& room_id,
                          const std::vector<std::string>& earliest,
                          const std::vector<std::string>& latest, int limit, int64_t min_depth,
                          EventsDone done) override;
  void state_ids(const std::string& server, const std::string& room_id,
                 const std::string& event_id, StateIdsDone done) override;
  void event(const std::string& server, const std::string& event_id, EventDone done) override;

 private:
  FederationClient& client_;
};

}  // namespace haven::federation
