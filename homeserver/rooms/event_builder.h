// Building this server's own events: a draft (what a client asked for) becomes a signed,
// hashed PDU with auth_events selected from the current state, checked by the auth rules.
// Pure functions of their inputs; any thread (the caller serialises sends per room).
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/ed25519.h"
#include "homeserver/base/result.h"
#include "homeserver/rooms/event.h"
#include "homeserver/rooms/room_version.h"
#include "homeserver/rooms/state.h"

namespace haven::rooms {

struct EventDraft {
  std::string room_id;  // empty for a v12 create event
  std::string sender;
  std::string type;
  std::optional<std::string> state_key;
  rapidjson::Document content{rapidjson::kObjectType};
  // The event an m.room.redaction redacts; placed per version (v10 top level, v11+ content).
  std::optional<std::string> redacts;
  int64_t origin_server_ts = 0;
};

// Builds, hashes and signs the event, computes its id and checks it against the auth rules
// (the create event against empty state; others against their selected auth events, plus the
// create event in v12). M_FORBIDDEN with the failed rule, or M_BAD_JSON / M_TOO_LARGE when the
// result is not a valid PDU. `depth` is clamped to 2^53 - 1.
Result<EventPtr> build_event(const EventDraft& draft, const std::vector<std::string>& prev_events,
                             int64_t depth, const StateView& current_state,
                             const RoomVersion& version, std::string_view origin_server_name,
                             const crypto::SigningKey& key);

// The unsigned template of an event another server's user will send (make_join, make_leave):
// auth_events selected from `current_state`, no hashes or signatures (the sender's server
// adds them).
rapidjson::Document build_event_template(const EventDraft& draft,
                                         const std::vector<std::string>& prev_events, int64_t depth,
                                         const StateView& current_state,
                                         const RoomVersion& version);

// The room id a v12 create event defines: "!" + its event id without the "$".
std::string room_id_from_create_event(const Event& create);

// Adds this server's signature to a PDU (over its redacted form), as done when building and
// when co-signing restricted joins. False when the PDU is not canonical JSON.
bool sign_pdu(rapidjson::Document& pdu, const RoomVersion& version, std::string_view server_name,
              const crypto::SigningKey& key);

}  // namespace haven::rooms
