#include "homeserver/rooms/room_service.h"

#include "crypto/random.h"
#include "homeserver/base/json.h"
#include "homeserver/base/loop.h"
#include "homeserver/base/write.h"
#include "homeserver/rooms/auth_rules.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/power_levels.h"
#include "homeserver/rooms/redaction.h"

namespace haven::rooms {

namespace {

// A redaction by someone other than the original sender needs the redact power level.
Status check_redaction_target(storage::WriteTxn& txn, const Event& redaction,
                              const RoomVersion& version) {
  auto target_id = redaction.redacts();
  if (!target_id) return Error::bad_json("Redaction without a target");
  auto target = get_event(txn, *target_id);
  if (!target || target->event->room_id() != redaction.room_id()) return {};
  if (target->event->sender() == redaction.sender()) return {};
  CurrentStateView state(txn, redaction.room_id());
  PowerLevels pl = power_levels(state, version);
  if (pl.user_level(redaction.sender()) < pl.redact()) {
    return Error::forbidden("You don't have permission to redact other users' events");
  }
  return {};
}

// Once a room is encrypted it stays so, with the same algorithm: its m.room.encryption state
// can be neither replaced by a weaker one nor redacted (which would strip the algorithm).
Status check_encryption_kept(storage::WriteTxn& txn, const Event& ev) {
  bool replaces = ev.type() == "m.room.encryption" && ev.state_key() == "";
  bool redacts = ev.type() == "m.room.redaction";
  if (!replaces && !redacts) return {};
  auto current = current_state_event(txn, ev.room_id(), "m.room.encryption", "");
  if (!current) return {};
  if (redacts && ev.redacts() == current->event_id()) {
    return Error::forbidden("The room's encryption cannot be redacted");
  }
  if (replaces && json::get_string(ev.content(), "algorithm") !=
                      json::get_string(current->content(), "algorithm")) {
    return Error::forbidden("Encryption cannot be turned off or changed once a room has it");
  }
  return {};
}

Status apply_redaction(storage::WriteTxn& txn, const Event& redaction, const RoomVersion& version) {
  auto target = get_event(txn, *redaction.redacts());
  if (!target || target->redacted || target->event->room_id() != redaction.room_id()) return {};
  rapidjson::Document redacted = redact(target->event->json(), version);
  return check(store_redaction(txn, target->event->event_id(), redacted, redaction.event_id()));
}

Result<SentEvent> append(storage::WriteTxn& txn, const LocalServer& server, RoomRecord& room,
                         const EventPtr& ev, const RoomVersion& version) {
  if (server.policy) HAVEN_TRY(server.policy->check(txn, *ev));
  storage::Status status;
  uint64_t pos = append_event(txn, room, *ev, &status);
  HAVEN_TRY(check(status));
  if (ev->type() == "m.room.redaction") HAVEN_TRY(apply_redaction(txn, *ev, version));
  if (server.policy) HAVEN_TRY(server.policy->appended(txn, *ev));
  if (server.outbound) HAVEN_TRY(check(server.outbound->queue_event(txn, *ev)));
  return SentEvent{ev, pos};
}

struct BuiltEvent {
  RoomRecord room;
  const RoomVersion* version = nullptr;
  EventPtr event;
};

// Builds `draft` on the current state of its room, citing every forward extremity (a forked DAG
// has several, up to the most a PDU may cite), with the checks a local event needs before auth.
Result<BuiltEvent> build_local_event(storage::WriteTxn& txn, const LocalServer& server,
                                     EventDraft draft) {
  auto room = get_room(txn, draft.room_id);
  if (!room) return Error::not_found("Unknown room");
  const RoomVersion* version = find_room_version(room->version);
  if (!version) return Error::unknown("Room has an unsupported version");
  if (server.policy) HAVEN_TRY(server.policy->prepare(txn, draft));
  CurrentStateView state(txn, room->room_id);
  std::vector<std::string> prev_events = room->extremities;
  if (prev_events.size() > kMaxPrevEvents) {
    prev_events.erase(prev_events.begin(), prev_events.end() - kMaxPrevEvents);
  }
  auto ev = build_event(draft, prev_events, room->depth + 1, state, *version, server.server_name,
                        *server.key);
  if (!ev.ok()) return std::move(ev).error();
  if ((*ev)->type() == "m.room.redaction") {
    HAVEN_TRY(check_redaction_target(txn, **ev, *version));
  }
  HAVEN_TRY(check_encryption_kept(txn, **ev));
  return BuiltEvent{std::move(*room), version, std::move(*ev)};
}

}  // namespace

Result<SentEvent> send_event(storage::WriteTxn& txn, const LocalServer& server, EventDraft draft) {
  auto built = build_local_event(txn, server, std::move(draft));
  if (!built.ok()) return std::move(built).error();
  return append(txn, server, built->room, built->event, *built->version);
}

Result<EventPtr> prepare_event(storage::WriteTxn& txn, const LocalServer& server,
                               EventDraft draft) {
  auto built = build_local_event(txn, server, std::move(draft));
  if (!built.ok()) return std::move(built).error();
  if (server.policy) HAVEN_TRY(server.policy->check(txn, *built->event));
  return built->event;
}

Result<SentEvent> append_built_event(storage::WriteTxn& txn, const LocalServer& server,
                                     const EventPtr& event) {
  auto room = get_room(txn, event->room_id());
  if (!room) return Error::not_found("Unknown room");
  const RoomVersion* version = find_room_version(room->version);
  if (!version || version->id != event->version().id) {
    return Error::unknown("Room has an unsupported version");
  }
  CurrentStateView state(txn, room->room_id);
  HAVEN_TRY(check_auth(*event, state, *version));
  return append(txn, server, *room, event, *version);
}

Result<std::vector<SentEvent>> create_room(storage::WriteTxn& txn, const LocalServer& server,
                                           const CreateRoomRequest& request,
                                           const std::string& creator, const RoomVersion& version,
                                           CreateRoomOptions options) {
  options.now_ms = now_ms();
  if (!version.room_id_from_create_event) {
    options.room_id = "!" + crypto::random_token(18) + ":" + server.server_name;
  }
  std::vector<EventDraft> drafts =
      plan_create_room(request, creator, version, server.server_name, options);
  std::vector<SentEvent> sent;
  RoomRecord room;
  room.version = version.id;
  for (size_t i = 0; i < drafts.size(); ++i) {
    EventDraft& draft = drafts[i];
    if (i == 0) {
      StateMap empty;
      auto create = build_event(draft, {}, 1, empty, version, server.server_name, *server.key);
      if (!create.ok()) return std::move(create).error();
      room.room_id =
          version.room_id_from_create_event ? room_id_from_create_event(**create) : options.room_id;
      if (get_room(txn, room.room_id)) {
        return Error::with(400, "M_ROOM_IN_USE", "Room ID already exists");
      }
      HAVEN_TRY(check(put_room(txn, room)));
      auto r = append(txn, server, room, *create, version);
      if (!r.ok()) return std::move(r).error();
      sent.push_back(std::move(r.value()));
      continue;
    }
    draft.room_id = room.room_id;
    bool is_invite =
        draft.type == "m.room.member" && json::get_string(draft.content, "membership") == "invite";
    auto r = send_event(txn, server, std::move(draft));
    // A refused invitee is not the request's state being wrong: the refusal is the answer.
    if (!r.ok() && is_invite) return std::move(r).error();
    if (!r.ok()) {
      // The request's own state (overrides, initial_state) made an event of the template fail.
      return Error::with(400, "M_INVALID_ROOM_STATE",
                         "The requested initial state is not allowed: " + r.error().message);
    }
    sent.push_back(std::move(r.value()));
  }
  return sent;
}

}  // namespace haven::rooms
