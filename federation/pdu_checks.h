// The checks every PDU received from another server passes before the room core sees it: the
// signatures of the servers that must sign it (keys from the KeyRing, usable at the event's
// origin_server_ts) and the content hash. Loop thread only (keys may be fetched).
#pragma once

#include <functional>
#include <vector>

#include "federation/key_ring.h"
#include "homeserver/base/result.h"
#include "homeserver/rooms/event.h"

namespace haven::federation {

// True when the event's hashes.sha256 matches its content. An event failing only this check
// is kept in its redacted form (the spec's "Checks performed on receipt of a PDU").
bool content_hash_matches(const rooms::Event& event);

// ok when every server of rooms::servers_required_to_sign has a valid signature on the
// event's redacted form by one of its keys; else M_FORBIDDEN naming the server.
void check_pdu_signatures(KeyRing& keys, const rooms::EventPtr& event,
                          std::function<void(Status)> done);

// ok when `server` has a valid signature on the event's redacted form (an invite carries the
// invited user's server's besides the sender's); else M_FORBIDDEN.
void check_server_signature(KeyRing& keys, const rooms::EventPtr& event, const std::string& server,
                            std::function<void(Status)> done);

// The same for many events at once: `done` gets one Status per event, in order.
void check_pdus_signatures(KeyRing& keys, const std::vector<rooms::EventPtr>& events,
                           std::function<void(std::vector<Status>)> done);

}  // namespace haven::federation
