// The checks every PDU received from another server passes before the room core sees it: the
// signatures of the servers that must sign it (keys from the KeyRing, usable at the event's
// origin_server_ts) and the content hash. The check_* functions and fetch_signing_keys run on
// the loop thread only (keys may be fetched); verify_signatures and content_hash_matches are
// pure and may run on any thread (PduIntake runs them on its worker pool).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "federation/key_ring.h"
#include "homeserver/base/result.h"
#include "homeserver/rooms/event.h"

namespace haven::federation {

// One signature an event carries that must be verified, with its key once fetched.
struct SigningKey {
  std::string server;
  std::string key_id;
  std::optional<KnownKey> key;
};

// Signatures looked at per server: a server signs with one key, a few cover key rotation.
inline constexpr size_t kMaxKeyIdsPerServer = 4;

// True when the event's hashes.sha256 matches its content. An event failing only this check
// is kept in its redacted form (the spec's "Checks performed on receipt of a PDU").
bool content_hash_matches(const rooms::Event& event);

// The spec's rules on an event another server pushes to a path naming its room and event id
// (send_join, send_leave, invite): the ids match, the sender is a user of `origin` and the
// content hash is right; else M_INVALID_PARAM saying which.
Status check_pushed_event(const rooms::Event& ev, const std::string& origin,
                          const std::string& room_id, const std::string& event_id);

// The ed25519 signatures of each of `servers` on the event, keys not yet fetched; M_FORBIDDEN
// when one of them did not sign it at all.
Result<std::vector<SigningKey>> signing_keys_wanted(const rooms::Event& event,
                                                    const std::vector<std::string>& servers);

// Fetches every key of `wanted` (usable at `ts`) at once; those that cannot be had stay empty.
void fetch_signing_keys(KeyRing& keys, int64_t ts, std::vector<SigningKey> wanted,
                        std::function<void(std::vector<SigningKey>)> done);

// ok when every server of `keys` has a valid signature on `redacted` (the event's redacted
// form) by one of its fetched keys; else M_FORBIDDEN naming the first server without one.
Status verify_signatures(const rapidjson::Value& redacted, const std::vector<SigningKey>& keys);

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
