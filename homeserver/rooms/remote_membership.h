// Membership that needs another server: joining a room this server is not in, leaving (or
// rejecting an invite to) such a room, inviting a user of another server, resolving another
// server's room alias. The client API calls this interface; federation/ implements it and
// main wires it in. Loop thread only; `done` runs on the loop thread.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "homeserver/base/json.h"
#include "homeserver/base/result.h"
#include "homeserver/rooms/event.h"

namespace haven::rooms {

struct RemoteAlias {
  std::string room_id;
  std::vector<std::string> servers;  // servers in the room, to join through
};

class RemoteMembership {
 public:
  virtual ~RemoteMembership() = default;

  // Asks the alias's server which room it names. M_NOT_FOUND when it names none.
  virtual void resolve_alias(const std::string& alias,
                             std::function<void(Result<RemoteAlias>)> done) = 0;

  // Joins `user_id` (local) to `room_id` through the first of `servers` that lets it in:
  // make_join, the signed join, send_join, the returned state and auth chain checked and
  // stored, then the join. `content`: the join's content besides "membership" (displayname,
  // avatar_url). `done` gets the stored join event.
  virtual void join(const std::string& user_id, const std::string& room_id,
                    std::vector<std::string> servers, json::Document content,
                    std::function<void(Result<EventPtr>)> done) = 0;

  // Leaves a room this server is not joined to (rejects an invite from another server)
  // through `servers`: make_leave, the signed leave, send_leave, then records the leave.
  virtual void leave(const std::string& user_id, const std::string& room_id,
                     std::vector<std::string> servers, json::Document content,
                     std::function<void(Result<EventPtr>)> done) = 0;

  // Has the invited user's server countersign `invite` (built and checked here, not yet
  // appended). `invite_room_state`: the full PDUs of the room's stripped state
  // (invite_room_state_pdus). `done` gets the event with both signatures.
  virtual void invite(const EventPtr& invite, json::Document invite_room_state,
                      std::function<void(Result<EventPtr>)> done) = 0;
};

}  // namespace haven::rooms
