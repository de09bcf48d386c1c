#include "homeserver/rooms/event.h"

#include <set>

#include "crypto/base64.h"
#include "crypto/canonical_json.h"
#include "crypto/json_signing.h"
#include "homeserver/rooms/ids.h"
#include "homeserver/rooms/json_util.h"
#include "homeserver/rooms/redaction.h"

namespace haven::rooms {

namespace {

using detail::member;
using detail::view;

constexpr size_t kMaxJsonTextBytes = 1 << 20;  // before canonicalisation (whitespace)
constexpr int kMaxJsonDepth = 128;

// Rejects nesting deeper than kMaxJsonDepth (so later recursive walks are bounded) and
// objects with a repeated key (canonical JSON has exactly one value per key).
Status check_structure(const rapidjson::Value& v, int depth) {
  if (depth > kMaxJsonDepth) return Error::bad_json("Event JSON nests too deeply");
  if (v.IsArray()) {
    for (auto& e : v.GetArray()) HAVEN_TRY(check_structure(e, depth + 1));
  } else if (v.IsObject()) {
    std::set<std::string_view> keys;
    for (auto& m : v.GetObject()) {
      if (!keys.insert(view(m.name)).second) {
        return Error::bad_json("Duplicate key '" + std::string(view(m.name)) + "' in event");
      }
      HAVEN_TRY(check_structure(m.value, depth + 1));
    }
  }
  return {};
}

Result<std::string_view> required_string(const rapidjson::Value& pdu, std::string_view key) {
  const rapidjson::Value* v = member(pdu, key);
  if (!v) return Error::bad_json("Event is missing '" + std::string(key) + "'");
  if (!v->IsString()) return Error::bad_json("'" + std::string(key) + "' must be a string");
  return view(*v);
}

Status required_type(const rapidjson::Value& pdu, std::string_view key, rapidjson::Type type) {
  const rapidjson::Value* v = member(pdu, key);
  if (!v) return Error::bad_json("Event is missing '" + std::string(key) + "'");
  if (v->GetType() != type) return Error::bad_json("'" + std::string(key) + "' has a wrong type");
  return {};
}

Status check_safe_int(const rapidjson::Value& pdu, std::string_view key, int64_t min) {
  const rapidjson::Value* v = member(pdu, key);
  if (!v) return Error::bad_json("Event is missing '" + std::string(key) + "'");
  if (!v->IsInt64() || v->GetInt64() < min || v->GetInt64() > crypto::kMaxSafeInteger) {
    return Error::bad_json("'" + std::string(key) + "' must be an integer in range");
  }
  return {};
}

Status check_event_id_list(const rapidjson::Value& pdu, std::string_view key, size_t max) {
  HAVEN_TRY(required_type(pdu, key, rapidjson::kArrayType));
  const rapidjson::Value& list = *member(pdu, key);
  if (list.Size() > max) return Error::bad_json("Too many " + std::string(key));
  for (auto& id : list.GetArray()) {
    if (!id.IsString() || !is_valid_event_id(view(id))) {
      return Error::bad_json("'" + std::string(key) + "' holds an invalid event id");
    }
  }
  return {};
}

Status check_hashes_and_signatures(const rapidjson::Value& pdu) {
  HAVEN_TRY(required_type(pdu, "hashes", rapidjson::kObjectType));
  if (!detail::string_member(*member(pdu, "hashes"), "sha256")) {
    return Error::bad_json("'hashes.sha256' must be a string");
  }
  HAVEN_TRY(required_type(pdu, "signatures", rapidjson::kObjectType));
  for (auto& server : member(pdu, "signatures")->GetObject()) {
    if (!server.value.IsObject()) return Error::bad_json("'signatures' entries must be objects");
    for (auto& sig : server.value.GetObject()) {
      if (!sig.value.IsString()) return Error::bad_json("Signatures must be strings");
    }
  }
  return {};
}

Status check_room_id(const rapidjson::Value& pdu, std::string_view type,
                     const RoomVersion& version) {
  const rapidjson::Value* room_id = member(pdu, "room_id");
  if (!room_id && version.room_id_from_create_event && type == "m.room.create") return {};
  auto id = required_string(pdu, "room_id");
  if (!id.ok()) return std::move(id).error();
  // v12 room ids are create event hashes; earlier ones carry the creating server's name.
  bool ok = version.room_id_from_create_event
                ? is_hash_room_id(*id)
                : is_valid_room_id(*id) && !server_name_of(*id).empty();
  if (!ok) return Error::bad_json("Invalid room_id");
  return {};
}

Status check_identity(const rapidjson::Value& pdu, const RoomVersion& version) {
  auto sender = required_string(pdu, "sender");
  if (!sender.ok()) return std::move(sender).error();
  if (!is_valid_user_id(*sender)) return Error::bad_json("Invalid sender");
  auto type = required_string(pdu, "type");
  if (!type.ok()) return std::move(type).error();
  if (type->size() > kMaxKeyBytes) return Error::bad_json("'type' is longer than 255 bytes");
  HAVEN_TRY(check_room_id(pdu, *type, version));
  if (const rapidjson::Value* sk = member(pdu, "state_key")) {
    if (!sk->IsString()) return Error::bad_json("'state_key' must be a string");
    if (sk->GetStringLength() > kMaxKeyBytes) {
      return Error::bad_json("'state_key' is longer than 255 bytes");
    }
  }
  return {};
}

Status check_optional_fields(const rapidjson::Value& pdu, const RoomVersion& version) {
  if (const rapidjson::Value* u = member(pdu, "unsigned"); u && !u->IsObject()) {
    return Error::bad_json("'unsigned' must be an object");
  }
  if (view(*member(pdu, "type")) != "m.room.redaction") return {};
  const rapidjson::Value* redacts = version.redacts_in_content
                                        ? member(*member(pdu, "content"), "redacts")
                                        : member(pdu, "redacts");
  if (redacts && (!redacts->IsString() || !is_valid_event_id(view(*redacts)))) {
    return Error::bad_json("'redacts' must be an event id");
  }
  return {};
}

Status check_format(const rapidjson::Value& pdu, const RoomVersion& version) {
  if (!pdu.IsObject()) return Error::bad_json("An event must be a JSON object");
  HAVEN_TRY(check_structure(pdu, 0));
  HAVEN_TRY(check_identity(pdu, version));
  HAVEN_TRY(required_type(pdu, "content", rapidjson::kObjectType));
  HAVEN_TRY(check_safe_int(pdu, "origin_server_ts", -crypto::kMaxSafeInteger));
  HAVEN_TRY(check_safe_int(pdu, "depth", 0));
  HAVEN_TRY(check_event_id_list(pdu, "prev_events", kMaxPrevEvents));
  HAVEN_TRY(check_event_id_list(pdu, "auth_events", kMaxAuthEvents));
  HAVEN_TRY(check_hashes_and_signatures(pdu));
  return check_optional_fields(pdu, version);
}

std::vector<std::string> string_list(const rapidjson::Value* list) {
  std::vector<std::string> out;
  if (!list || !list->IsArray()) return out;
  for (auto& v : list->GetArray()) {
    if (v.IsString()) out.emplace_back(view(v));
  }
  return out;
}

}  // namespace

std::optional<std::string> compute_event_id(const rapidjson::Value& pdu,
                                            const RoomVersion& version) {
  rapidjson::Document redacted = redact(pdu, version);
  auto hash = crypto::reference_hash(redacted);
  if (!hash) return std::nullopt;
  return "$" + crypto::base64_encode_urlsafe(*hash);
}

Result<EventPtr> Event::parse_pdu(std::string_view json, const RoomVersion& version) {
  if (json.size() > kMaxJsonTextBytes) return Error::too_large("Event is too large");
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(json.data(),
                                                                                    json.size());
  if (doc.HasParseError()) return Error::not_json("Event is not valid JSON");
  return from_json(std::move(doc), version);
}

Result<EventPtr> Event::from_json(rapidjson::Document pdu, const RoomVersion& version) {
  HAVEN_TRY(check_format(pdu, version));
  std::string error;
  auto canonical = crypto::canonical_json(pdu, &error);
  if (!canonical) return Error::bad_json("Event is not canonical JSON: " + error);
  if (canonical->size() > kMaxPduBytes) {
    return Error::too_large("Event is larger than 65536 bytes");
  }
  auto event_id = compute_event_id(pdu, version);
  if (!event_id) return Error::bad_json("Cannot compute the event id");
  return finish(std::move(pdu), std::move(*event_id), version);
}

EventPtr Event::from_stored(std::string_view json, std::string event_id,
                            const RoomVersion& version) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return nullptr;
  auto ev = finish(std::move(doc), std::move(event_id), version);
  return ev.ok() ? std::move(ev).value() : nullptr;
}

Result<EventPtr> Event::finish(rapidjson::Document doc, std::string event_id,
                               const RoomVersion& version) {
  auto ev = std::make_shared<Event>(Token{});
  ev->doc_ = std::move(doc);
  ev->version_ = &version;
  ev->event_id_ = std::move(event_id);
  ev->load_fields();
  return EventPtr(std::move(ev));
}

void Event::load_fields() {
  using detail::int_member;
  using detail::string_member;
  sender_ = std::string(string_member(doc_, "sender").value_or(""));
  type_ = std::string(string_member(doc_, "type").value_or(""));
  if (auto sk = string_member(doc_, "state_key")) state_key_ = std::string(*sk);
  if (auto room = string_member(doc_, "room_id")) {
    room_id_ = std::string(*room);
  } else if (version_->room_id_from_create_event && type_ == "m.room.create") {
    room_id_ = "!" + event_id_.substr(1);
  }
  origin_server_ts_ = int_member(doc_, "origin_server_ts").value_or(0);
  depth_ = int_member(doc_, "depth").value_or(0);
  prev_events_ = string_list(member(doc_, "prev_events"));
  auth_events_ = string_list(member(doc_, "auth_events"));
  const rapidjson::Value& where = version_->redacts_in_content ? content() : doc_;
  if (auto r = string_member(where, "redacts"); r && type_ == "m.room.redaction") {
    redacts_ = std::string(*r);
  }
}

const rapidjson::Value& Event::content() const {
  static const rapidjson::Value kEmpty(rapidjson::kObjectType);
  const rapidjson::Value* c = member(doc_, "content");
  return c && c->IsObject() ? *c : kEmpty;
}

std::string Event::membership() const {
  if (type_ != "m.room.member") return {};
  return std::string(detail::string_member(content(), "membership").value_or(""));
}

bool Event::is_state_event(std::string_view type, std::string_view state_key) const {
  return state_key_ && type_ == type && *state_key_ == state_key;
}

}  // namespace haven::rooms
