#include "homeserver/rooms/event_builder.h"

#include <algorithm>

#include "crypto/canonical_json.h"
#include "crypto/json_signing.h"
#include "homeserver/rooms/auth_rules.h"
#include "homeserver/rooms/json_util.h"
#include "homeserver/rooms/redaction.h"

namespace haven::rooms {

namespace {

using detail::Alloc;
using detail::str;

bool is_create(const EventDraft& draft) { return draft.type == "m.room.create"; }

// The auth events the draft needs, as found in the current state.
std::vector<EventPtr> select_auth_events(const EventDraft& draft, const StateView& state,
                                         const RoomVersion& version) {
  std::vector<EventPtr> out;
  for (auto& [type, state_key] :
       auth_types_for_event(draft.type, draft.sender, draft.state_key, draft.content, version)) {
    if (EventPtr ev = state.get(type, state_key)) out.push_back(std::move(ev));
  }
  return out;
}

rapidjson::Value id_list(const std::vector<std::string>& ids, Alloc& a) {
  rapidjson::Value list(rapidjson::kArrayType);
  for (const std::string& id : ids) list.PushBack(str(id, a), a);
  return list;
}

rapidjson::Document draft_to_pdu(const EventDraft& draft, const std::vector<std::string>& prev,
                                 const std::vector<std::string>& auth, int64_t depth,
                                 const RoomVersion& version) {
  rapidjson::Document pdu(rapidjson::kObjectType);
  Alloc& a = pdu.GetAllocator();
  pdu.AddMember("auth_events", id_list(auth, a), a);
  rapidjson::Value content;
  content.CopyFrom(draft.content, a);
  if (!content.IsObject()) content.SetObject();
  pdu.AddMember("depth", std::clamp<int64_t>(depth, 0, crypto::kMaxSafeInteger), a);
  pdu.AddMember("origin_server_ts", draft.origin_server_ts, a);
  pdu.AddMember("prev_events", id_list(prev, a), a);
  if (!(version.room_id_from_create_event && is_create(draft))) {
    pdu.AddMember("room_id", str(draft.room_id, a), a);
  }
  pdu.AddMember("sender", str(draft.sender, a), a);
  if (draft.state_key) pdu.AddMember("state_key", str(*draft.state_key, a), a);
  pdu.AddMember("type", str(draft.type, a), a);
  // A client may give the target in content.redacts in any version; v10 needs it on top.
  std::optional<std::string_view> redacts = draft.redacts;
  if (!redacts && draft.type == "m.room.redaction") {
    redacts = detail::string_member(content, "redacts");
  }
  if (redacts && version.redacts_in_content) {
    detail::set_member(content, "redacts", str(*redacts, a), a);
  } else if (redacts) {
    pdu.AddMember("redacts", str(*redacts, a), a);
  }
  pdu.AddMember("content", content, a);
  return pdu;
}

}  // namespace

bool sign_pdu(rapidjson::Document& pdu, const RoomVersion& version, std::string_view server_name,
              const crypto::SigningKey& key) {
  rapidjson::Document redacted = redact(pdu, version);
  detail::remove_member(redacted, "unsigned");
  if (!crypto::sign_json(redacted, redacted.GetAllocator(), server_name, key)) return false;
  rapidjson::Value signatures;
  signatures.CopyFrom(redacted["signatures"], pdu.GetAllocator());
  detail::set_member(pdu, "signatures", std::move(signatures), pdu.GetAllocator());
  return true;
}

Result<EventPtr> build_event(const EventDraft& draft, const std::vector<std::string>& prev_events,
                             int64_t depth, const StateView& current_state,
                             const RoomVersion& version, std::string_view origin_server_name,
                             const crypto::SigningKey& key) {
  std::vector<EventPtr> auth = is_create(draft) ? std::vector<EventPtr>{}
                                                : select_auth_events(draft, current_state, version);
  std::vector<std::string> auth_ids;
  for (const EventPtr& ev : auth) auth_ids.push_back(ev->event_id());

  rapidjson::Document pdu = draft_to_pdu(draft, prev_events, auth_ids, depth, version);
  if (!crypto::add_content_hash(pdu, pdu.GetAllocator()) ||
      !sign_pdu(pdu, version, origin_server_name, key)) {
    return Error::bad_json("Event content is not canonical JSON");
  }
  auto event = Event::from_json(std::move(pdu), version);
  if (!event.ok()) return event;

  StateMap auth_state;
  for (EventPtr& ev : auth) auth_state.set(std::move(ev));
  if (version.room_id_from_create_event && !is_create(draft)) {
    auth_state.set(create_event(current_state));
  }
  HAVEN_TRY(check_auth(**event, auth_state, version));
  return event;
}

rapidjson::Document build_event_template(const EventDraft& draft,
                                         const std::vector<std::string>& prev_events, int64_t depth,
                                         const StateView& current_state,
                                         const RoomVersion& version) {
  std::vector<std::string> auth_ids;
  for (const EventPtr& ev : select_auth_events(draft, current_state, version)) {
    auth_ids.push_back(ev->event_id());
  }
  return draft_to_pdu(draft, prev_events, auth_ids, depth, version);
}

std::string room_id_from_create_event(const Event& create) {
  return "!" + create.event_id().substr(1);
}

}  // namespace haven::rooms
