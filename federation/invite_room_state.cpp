#include "federation/invite_room_state.h"

#include "federation/pdu_checks.h"
#include "homeserver/rooms/event_builder.h"
#include "homeserver/rooms/redaction.h"

namespace haven::federation {
namespace {

// The room an event belongs to; in room version 12 a create event names none and its room is
// the one whose id is derived from its own event id.
std::string room_of(const rooms::Event& event) {
  if (event.version().room_id_from_create_event && event.type() == "m.room.create") {
    return rooms::room_id_from_create_event(event);
  }
  return event.room_id();
}

Result<rooms::EventPtr> parse_entry(const json::Value& entry, const rooms::RoomVersion& version,
                                    const std::string& room_id) {
  if (!entry.IsObject()) return Error::invalid_param("invite_room_state holds a non-object");
  rapidjson::Document pdu;
  pdu.CopyFrom(entry, pdu.GetAllocator());
  auto event = rooms::Event::from_json(std::move(pdu), version);
  if (!event.ok()) {
    return Error::invalid_param("An invite_room_state entry is not a PDU of room version " +
                                std::string(version.id) + ": " + event.error().message);
  }
  if (!(*event)->state_key()) {
    return Error::invalid_param("invite_room_state holds a non-state event");
  }
  if (room_of(**event) != room_id) {
    return Error::invalid_param("An invite_room_state event is from another room");
  }
  return *event;
}

}  // namespace

Result<std::vector<rooms::EventPtr>> parse_invite_room_state(const json::Value& body,
                                                             const rooms::RoomVersion& version,
                                                             const std::string& room_id) {
  auto list = body.FindMember("invite_room_state");
  if (list == body.MemberEnd()) {
    return Error::invalid_param("invite_room_state must hold the room's m.room.create event");
  }
  if (!list->value.IsArray() || list->value.Size() > kMaxInviteRoomStateEvents) {
    return Error::invalid_param("invite_room_state must be a list of at most " +
                                std::to_string(kMaxInviteRoomStateEvents) + " events");
  }
  std::vector<rooms::EventPtr> events;
  bool has_create = false;
  for (const auto& entry : list->value.GetArray()) {
    auto event = parse_entry(entry, version, room_id);
    if (!event.ok()) return std::move(event).error();
    has_create |= (*event)->type() == "m.room.create" && (*event)->state_key() == "";
    events.push_back(std::move(*event));
  }
  if (!has_create) {
    return Error::invalid_param("invite_room_state must hold the room's m.room.create event");
  }
  return events;
}

void check_invite_room_state(KeyRing& keys, std::vector<rooms::EventPtr> events,
                             std::function<void(Result<json::Document>)> done) {
  auto held = std::make_shared<std::vector<rooms::EventPtr>>(std::move(events));
  check_pdus_signatures(keys, *held, [held, done = std::move(done)](std::vector<Status> checks) {
    json::Document out(rapidjson::kArrayType);
    auto& a = out.GetAllocator();
    for (size_t i = 0; i < held->size(); ++i) {
      const rooms::Event& event = *(*held)[i];
      if (!checks[i].ok()) {
        return done(
            Error::invalid_param("invite_room_state event " + event.event_id() +
                                 " fails the signature check: " + checks[i].error().message));
      }
      json::Value pdu;
      if (content_hash_matches(event)) {
        pdu.CopyFrom(event.json(), a);
      } else {
        json::Document redacted = rooms::redact(event.json(), event.version());
        pdu.CopyFrom(redacted, a);
      }
      pdu.RemoveMember("unsigned");
      out.PushBack(std::move(pdu), a);
    }
    done(std::move(out));
  });
}

}  // namespace haven::federation
