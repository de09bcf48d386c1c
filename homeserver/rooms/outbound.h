// What this server hands to other servers: its local events (PDUs) and ephemeral data (EDUs).
// federation/ implements it (federation::Outbox) and main wires it in (ServerContext::outbound
// and LocalServer::outbound), so the room core and the client API never depend on federation.
// queue_* run on the storage writer thread inside the caller's job (the items commit with it);
// the other calls run on the loop thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "homeserver/rooms/event.h"
#include "storage/store.h"

namespace haven::rooms {

class Outbound {
 public:
  virtual ~Outbound() = default;
  // Queues the local `event`, just appended in this job, for every other server with a joined
  // member in its room after it, the server of a membership change's target, and `extra`.
  virtual storage::Status queue_event(storage::WriteTxn& txn, const Event& event,
                                      const std::vector<std::string>& extra = {}) const = 0;
  // Queues an EDU of `type` with `content_json` (a JSON object's text) for `destination`.
  // Nothing is queued for this server itself nor for a server it does not federate with.
  virtual storage::Status queue_edu(storage::WriteTxn& txn, std::string_view destination,
                                    std::string_view type,
                                    std::string_view content_json) const = 0;
  // Queued items are durable now: deliver them.
  virtual void wake() = 0;
  // Queues (in a write job of its own) and delivers an EDU to each of `destinations`.
  virtual void send_edu(std::vector<std::string> destinations, std::string type,
                        std::string content_json) = 0;
  // `user_id` (local) changed devices, device keys or cross-signing keys: tells the servers
  // sharing a room with them (m.device_list_update, m.signing_key_update).
  virtual void local_device_list_changed(const std::string& user_id) = 0;
};

}  // namespace haven::rooms
