// Event: one immutable, checked PDU of a room (the federation format), with its event id.
// Immutable after construction; share EventPtr freely across threads.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "homeserver/base/result.h"
#include "homeserver/rooms/room_version.h"

namespace haven::rooms {

class Event;
using EventPtr = std::shared_ptr<const Event>;

constexpr size_t kMaxPduBytes = 65536;  // canonical JSON, signatures included
constexpr size_t kMaxKeyBytes = 255;    // type and state_key
constexpr size_t kMaxPrevEvents = 20;
constexpr size_t kMaxAuthEvents = 10;

class Event {
  struct Token {};

 public:
  // Parses and checks a PDU against `version`'s event format: required keys and their types,
  // identifier grammar, size limits, canonical JSON (no floats, integers within 2^53), no
  // duplicate keys. Computes the event id from the reference hash.
  // M_NOT_JSON / M_BAD_JSON / M_TOO_LARGE on failure.
  static Result<EventPtr> parse_pdu(std::string_view json, const RoomVersion& version);
  static Result<EventPtr> from_json(rapidjson::Document pdu, const RoomVersion& version);
  // Events this server already checked and stored: no format checks, the id is known.
  // nullptr when `json` is not a JSON object.
  static EventPtr from_stored(std::string_view json, std::string event_id,
                              const RoomVersion& version);

  explicit Event(Token) {}

  const rapidjson::Value& json() const { return doc_; }
  const RoomVersion& version() const { return *version_; }
  const std::string& event_id() const { return event_id_; }
  // For a v12 create event (which has none in its JSON): the room id it defines.
  const std::string& room_id() const { return room_id_; }
  const std::string& sender() const { return sender_; }
  const std::string& type() const { return type_; }
  const std::optional<std::string>& state_key() const { return state_key_; }
  bool is_state() const { return state_key_.has_value(); }
  const rapidjson::Value& content() const;
  int64_t origin_server_ts() const { return origin_server_ts_; }
  int64_t depth() const { return depth_; }
  const std::vector<std::string>& prev_events() const { return prev_events_; }
  const std::vector<std::string>& auth_events() const { return auth_events_; }
  // The redacted event of an m.room.redaction: content.redacts in v11+, top-level before.
  const std::optional<std::string>& redacts() const { return redacts_; }
  // content.membership of an m.room.member event; "" when absent or not a string.
  std::string membership() const;
  // True when this is `type` with state key `state_key`.
  bool is_state_event(std::string_view type, std::string_view state_key) const;

 private:
  static Result<EventPtr> finish(rapidjson::Document doc, std::string event_id,
                                 const RoomVersion& version);
  void load_fields();

  rapidjson::Document doc_;
  const RoomVersion* version_ = nullptr;
  std::string event_id_;
  std::string room_id_;
  std::string sender_;
  std::string type_;
  std::optional<std::string> state_key_;
  int64_t origin_server_ts_ = 0;
  int64_t depth_ = 0;
  std::vector<std::string> prev_events_;
  std::vector<std::string> auth_events_;
  std::optional<std::string> redacts_;
};

// "$" + url-safe unpadded base64 of the reference hash of `pdu` (redacted per `version`).
// nullopt when the event is not canonical JSON.
std::optional<std::string> compute_event_id(const rapidjson::Value& pdu,
                                            const RoomVersion& version);

}  // namespace haven::rooms
