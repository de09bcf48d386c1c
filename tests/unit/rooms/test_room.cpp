#include "tests/unit/rooms/test_room.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <boost/test/unit_test.hpp>

#include "crypto/json_signing.h"
#include "homeserver/rooms/event_builder.h"
#include "homeserver/rooms/ids.h"

namespace haven::rooms::test {

const crypto::SigningKey& test_key() {
  static const crypto::SigningKey key =
      *crypto::SigningKey::from_seed(std::string(32, '\x07'), "test");
  return key;
}

rapidjson::Document parse(std::string_view json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  BOOST_REQUIRE_MESSAGE(!d.HasParseError(), "bad test JSON: " << json);
  return d;
}

const RoomVersion& v10() { return *find_room_version("10"); }
const RoomVersion& v11() { return *find_room_version("11"); }
const RoomVersion& v12() { return *find_room_version("12"); }

namespace {

std::string quote(const std::string& s) { return "\"" + s + "\""; }

std::string to_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return buf.GetString();
}

std::string id_list(const std::vector<std::string>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + quote(ids[i]);
  return out + "]";
}

}  // namespace

std::string message_of(const Status& s) { return s.ok() ? "allowed" : s.error().message; }

TestRoom::TestRoom(const RoomVersion& v, std::string creator_id, std::string create_content)
    : version(v), creator(std::move(creator_id)) {
  room_id = "!room:" + std::string(server_name_of(creator));
  rapidjson::Document content = parse(create_content);
  auto& a = content.GetAllocator();
  if (v.create_has_creator_field && !content.HasMember("creator")) {
    content.AddMember("creator", rapidjson::Value(creator.c_str(), a), a);
  }
  if (!content.HasMember("room_version")) {
    content.AddMember("room_version", rapidjson::Value(std::string(v.id).c_str(), a), a);
  }
  EventSpec spec(creator, "m.room.create", "", to_json(content));
  spec.prev_events = std::vector<std::string>{};
  if (v.room_id_from_create_event) spec.room_id = "";
  create = make(spec);
  if (v.room_id_from_create_event) room_id = room_id_from_create_event(*create);
  Status allowed = check(create);
  BOOST_REQUIRE_MESSAGE(allowed.ok(), "create refused: " << message_of(allowed));
  current.set(create);
  last_event_id = create->event_id();
}

EventPtr TestRoom::make(const EventSpec& spec) const {
  rapidjson::Document content = parse(spec.content);
  auto keys = auth_types_for_event(spec.type, spec.sender, spec.state_key, content, version);
  std::vector<std::string> auth;
  for (auto& [type, key] : keys) {
    if (EventPtr ev = current.get(type, key)) auth.push_back(ev->event_id());
  }
  if (spec.auth_events) auth = *spec.auth_events;
  std::vector<std::string> prev =
      spec.prev_events ? *spec.prev_events : std::vector<std::string>{last_event_id};
  std::string room = spec.room_id ? *spec.room_id : room_id;
  std::string json = "{\"auth_events\":" + id_list(auth) + ",\"content\":" + spec.content +
                     ",\"depth\":1,\"origin_server_ts\":" + std::to_string(next_ts) +
                     ",\"prev_events\":" + id_list(prev) +
                     (room.empty() ? "" : ",\"room_id\":" + quote(room)) +
                     ",\"sender\":" + quote(spec.sender) +
                     (spec.state_key ? ",\"state_key\":" + quote(*spec.state_key) : "") +
                     ",\"type\":" + quote(spec.type) +
                     (spec.extra_top_level.empty() ? "" : "," + spec.extra_top_level) + "}";
  rapidjson::Document pdu = parse(json);
  BOOST_REQUIRE(crypto::add_content_hash(pdu, pdu.GetAllocator()));
  std::vector<std::string> signers =
      spec.signers ? *spec.signers
                   : std::vector<std::string>{std::string(server_name_of(spec.sender))};
  for (const std::string& server : signers) {
    BOOST_REQUIRE(sign_pdu(pdu, version, server, test_key()));
  }
  if (signers.empty())
    pdu.AddMember("signatures", rapidjson::Value(rapidjson::kObjectType), pdu.GetAllocator());
  auto ev = Event::from_json(std::move(pdu), version);
  BOOST_REQUIRE_MESSAGE(ev.ok(), "test event invalid: " << (ev.ok() ? "" : ev.error().message));
  return *ev;
}

Status TestRoom::check(const EventPtr& ev) const { return check_auth(*ev, current, version); }

EventPtr TestRoom::apply(const EventSpec& spec) {
  EventPtr ev = make(spec);
  Status s = check(ev);
  BOOST_REQUIRE_MESSAGE(s.ok(), "event " << spec.type << " refused: " << message_of(s));
  current.set(ev);
  last_event_id = ev->event_id();
  ++next_ts;
  return ev;
}

EventPtr TestRoom::join(const std::string& user) {
  return apply({user, "m.room.member", user, R"({"membership":"join"})"});
}

EventPtr TestRoom::member(const std::string& sender, const std::string& target,
                          const std::string& membership, const std::string& extra_content) {
  std::string content = "{\"membership\":" + quote(membership) +
                        (extra_content.empty() ? "" : "," + extra_content) + "}";
  return apply({sender, "m.room.member", target, content});
}

EventPtr TestRoom::state(const std::string& sender, const std::string& type,
                         const std::string& content, const std::string& state_key) {
  return apply({sender, type, state_key, content});
}

EventPtr TestRoom::power_levels(const std::string& content) {
  return state(creator, "m.room.power_levels", content);
}

}  // namespace haven::rooms::test
