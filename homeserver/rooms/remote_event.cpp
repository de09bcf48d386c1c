#include "homeserver/rooms/remote_event.h"

#include "homeserver/base/write.h"
#include "homeserver/rooms/auth_rules.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/ids.h"
#include "homeserver/rooms/power_levels.h"
#include "homeserver/rooms/redaction.h"
#include "homeserver/rooms/state_at_event.h"

namespace haven::rooms {

namespace {

using Outcome = ReceivedEvent::Outcome;

// A state by event ids, read through a transaction as the auth rules ask for it.
class StateIdsView : public StateView {
 public:
  StateIdsView(storage::ReadTxn& txn, StateIds ids) : txn_(txn), ids_(std::move(ids)) {}
  EventPtr get(std::string_view type, std::string_view state_key) const override {
    auto it = ids_.find(StateKey{std::string(type), std::string(state_key)});
    if (it == ids_.end()) return nullptr;
    auto stored = get_event(txn_, it->second);
    return stored ? stored->event : nullptr;
  }

 private:
  storage::ReadTxn& txn_;
  StateIds ids_;
};

bool already_known(storage::ReadTxn& txn, const std::string& event_id, bool outlier_counts) {
  if (rejected_event(txn, event_id)) return true;
  auto stored = get_event(txn, event_id);
  return stored && (outlier_counts || !stored->outlier);
}

// Check 4: the event is allowed by the auth events it names (all stored and not rejected).
Status check_against_auth_events(storage::ReadTxn& txn, const Event& event) {
  std::vector<EventPtr> auth_events;
  for (const std::string& id : event.auth_events()) {
    auto stored = get_event(txn, id);
    if (!stored && rejected_event(txn, id)) return Error::forbidden("Rejected auth event " + id);
    if (!stored) return Error::not_found("Unknown auth event " + id);
    auth_events.push_back(stored->event);
  }
  EventPtr room_create;
  if (event.version().room_id_from_create_event && event.type() != "m.room.create") {
    auto create = get_event(txn, "$" + event.room_id().substr(1));
    if (!create) return Error::forbidden("The room's create event is not known");
    room_create = create->event;
  }
  auto state = auth_state_from_auth_events(event, auth_events, event.version(), room_create);
  if (!state.ok()) return std::move(state).error();
  return check_auth(event, *state, event.version());
}

ReceivedEvent rejected(std::string reason) {
  return ReceivedEvent{Outcome::kRejected, 0, std::move(reason)};
}

// A redaction received from another server takes effect when its sender is of the target's
// server or may redact others' events.
Status apply_remote_redaction(storage::WriteTxn& txn, const Event& redaction) {
  if (!redaction.redacts()) return {};
  auto target = get_event(txn, *redaction.redacts());
  if (!target || target->redacted || target->event->room_id() != redaction.room_id()) return {};
  if (server_name_of(target->event->sender()) != server_name_of(redaction.sender())) {
    CurrentStateView state(txn, redaction.room_id());
    PowerLevels pl = power_levels(state, redaction.version());
    if (pl.user_level(redaction.sender()) < pl.redact()) return {};
  }
  rapidjson::Document redacted = redact(target->event->json(), redaction.version());
  return check(store_redaction(txn, target->event->event_id(), redacted, redaction.event_id()));
}

}  // namespace

Result<ReceivedEvent> receive_event(storage::WriteTxn& txn, const EventPtr& event, bool redacted,
                                    const LocalEventPolicy* policy) {
  auto room = get_room(txn, event->room_id());
  if (!room) return Error::not_found("This server does not hold room " + event->room_id());
  if (room->version != event->version().id) return Error::bad_json("Wrong room version");
  if (already_known(txn, event->event_id(), /*outlier_counts=*/false)) {
    return ReceivedEvent{Outcome::kAlreadyKnown, 0, {}};
  }
  if (event->type() == "m.room.create") return rejected("The room already has a create event");

  if (auto s = check_against_auth_events(txn, *event); !s.ok()) {
    if (s.error().errcode == "M_NOT_FOUND") return std::move(s).error();  // fetch them first
    HAVEN_TRY(check(put_rejected(txn, event->event_id(), 0)));
    return rejected(s.error().message);
  }
  auto before = state_group_before_event(txn, event->version(), event->prev_events());
  if (!before.ok()) return std::move(before).error();
  StateIdsView state_before(txn, state_ids_at_group(txn, *before));
  if (auto s = check_auth(*event, state_before, event->version()); !s.ok()) {
    HAVEN_TRY(check(put_rejected(txn, event->event_id(), *before)));
    return rejected(s.error().message);
  }
  CurrentStateView current(txn, room->room_id);
  Status now_allowed = check_auth(*event, current, event->version());
  if (now_allowed.ok() && policy) now_allowed = policy->check_remote(txn, *event);

  AppendAtState how{*before, !now_allowed.ok(), redacted};
  auto pos = append_event_at_state(txn, *room, *event, how);
  if (!pos.ok()) return std::move(pos).error();
  if (how.soft_failed) return ReceivedEvent{Outcome::kSoftFailed, 0, now_allowed.error().message};
  if (event->type() == "m.room.redaction") HAVEN_TRY(apply_remote_redaction(txn, *event));
  return ReceivedEvent{Outcome::kAccepted, *pos, {}};
}

Result<ReceivedEvent> receive_outlier(storage::WriteTxn& txn, const EventPtr& event,
                                      bool redacted) {
  if (already_known(txn, event->event_id(), /*outlier_counts=*/true)) {
    return ReceivedEvent{Outcome::kAlreadyKnown, 0, {}};
  }
  Status allowed = event->type() == "m.room.create"
                       ? check_auth(*event, StateMap{}, event->version())
                       : check_against_auth_events(txn, *event);
  if (!allowed.ok() && allowed.error().errcode == "M_NOT_FOUND") {
    return std::move(allowed).error();
  }
  if (!allowed.ok()) {
    HAVEN_TRY(check(put_rejected(txn, event->event_id(), 0)));
    return rejected(allowed.error().message);
  }
  HAVEN_TRY(check(put_outlier(txn, *event, redacted)));
  return ReceivedEvent{Outcome::kAccepted, 0, {}};
}

Status record_state_after_outlier(storage::WriteTxn& txn, const std::string& event_id,
                                  const std::vector<std::string>& state_before_ids) {
  auto outlier = get_event(txn, event_id);
  if (!outlier) return Error::not_found("Unknown event " + event_id);
  StateIds state;
  for (const std::string& id : state_before_ids) {
    auto stored = get_event(txn, id);
    if (!stored || !stored->event->state_key() ||
        stored->event->room_id() != outlier->event->room_id()) {
      continue;
    }
    state[{stored->event->type(), *stored->event->state_key()}] = id;
  }
  const Event& ev = *outlier->event;
  if (ev.state_key()) state[{ev.type(), *ev.state_key()}] = ev.event_id();
  storage::Status status;
  uint64_t group = put_state_group(txn, 0, state, &status);
  HAVEN_TRY(check(status));
  EventRecord record{outlier->pos, group, outlier->redacted, outlier->soft_failed};
  record.outlier = outlier->outlier;
  return check(put_event_record(txn, ev, ev.version().id, record));
}

}  // namespace haven::rooms
