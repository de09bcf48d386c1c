// Test support for the room core: a fixed signing key, JSON from text, and TestRoom, which
// makes signed events (without auth checks) and keeps a state map to check them against.
// Single-threaded test code.
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/ed25519.h"
#include "homeserver/rooms/auth_rules.h"
#include "homeserver/rooms/event.h"
#include "homeserver/rooms/room_version.h"
#include "homeserver/rooms/state.h"

namespace haven::rooms::test {

const crypto::SigningKey& test_key();
rapidjson::Document parse(std::string_view json);
const RoomVersion& v10();
const RoomVersion& v11();
const RoomVersion& v12();
// The error message of a refused status, "allowed" otherwise.
std::string message_of(const Status& s);

struct EventSpec {
  EventSpec(std::string sender_id, std::string event_type, std::optional<std::string> key,
            std::string content_json = "{}")
      : sender(std::move(sender_id)),
        type(std::move(event_type)),
        state_key(std::move(key)),
        content(std::move(content_json)) {}

  std::string sender;
  std::string type;
  std::optional<std::string> state_key;
  std::string content = "{}";
  std::optional<std::vector<std::string>> prev_events;  // default: the room's last event
  std::optional<std::vector<std::string>> auth_events;  // default: the selection
  std::optional<std::string> room_id;                   // default: the room's id
  std::string extra_top_level = "";  // e.g. R"("redacts":"$x")" merged into the PDU
  // The servers that sign the event; default: the sender's. Empty: unsigned.
  std::optional<std::vector<std::string>> signers;
};

class TestRoom {
 public:
  // Creates the room with `creator`'s create event (content_json extra create content).
  TestRoom(const RoomVersion& version, std::string creator, std::string create_content = "{}");

  // A signed PDU from `spec`, not checked by the auth rules; auth_events from the selection.
  EventPtr make(const EventSpec& spec) const;
  // Checks `ev` against the current state.
  Status check(const EventPtr& ev) const;
  // make + check + add to the state; fails the test when not allowed.
  EventPtr apply(const EventSpec& spec);
  // Shortcuts.
  EventPtr join(const std::string& user);
  EventPtr member(const std::string& sender, const std::string& target,
                  const std::string& membership, const std::string& extra_content = "");
  EventPtr state(const std::string& sender, const std::string& type, const std::string& content,
                 const std::string& state_key = "");
  // The current state's power_levels content replaced (by the creator).
  EventPtr power_levels(const std::string& content);

  const RoomVersion& version;
  std::string creator;
  std::string room_id;
  EventPtr create;
  StateMap current;
  std::string last_event_id;
  int64_t next_ts = 1000;
};

}  // namespace haven::rooms::test
