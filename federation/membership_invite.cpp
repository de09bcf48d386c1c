// Federation API, invites (v2) both ways: countersigning an invite of one of this server's
// users, and asking another server to countersign an invite of one of its users.
#include "federation/invite_room_state.h"
#include "federation/membership.h"
#include "federation/pdu_checks.h"
#include "federation/server_acl.h"
#include "federation/url_path.h"
#include "homeserver/accounts/account_store.h"
#include "homeserver/base/write.h"
#include "homeserver/rooms/event_builder.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/ids.h"

namespace haven::federation {
namespace {

Status check_invite_event(const rooms::Event& ev, const std::string& origin,
                          const std::string& room_id, const std::string& event_id,
                          const std::string& own_name) {
  HAVEN_TRY(check_pushed_event(ev, origin, room_id, event_id));
  if (ev.type() != "m.room.member" || ev.membership() != "invite") {
    return Error::invalid_param("The event is not an invite");
  }
  if (!ev.state_key() || rooms::server_name_of(*ev.state_key()) != own_name) {
    return Error::invalid_param("The invited user is not a user of this server");
  }
  return {};
}

// Whether this server is in the room: then the invite also reaches it in a transaction.
bool has_local_members(storage::ReadTxn& txn, const std::string& room_id,
                       const std::string& own_name) {
  if (!rooms::get_room(txn, room_id)) return false;
  for (const auto& [user, m] : rooms::members_of_room(txn, room_id)) {
    if (m == "join" && rooms::server_name_of(user) == own_name) return true;
  }
  return false;
}

}  // namespace

// PUT /_matrix/federation/v2/invite/{roomId}/{eventId}
void Membership::receive_invite(const http::ExchangePtr& ex, const std::string& origin) {
  const std::string room_id = ex->params[0];
  const std::string event_id = ex->params[1];
  auto body = json::parse_object(ex->body(), config_.max_json_depth);
  if (!body.ok()) return ex->reply_error(body.error());
  auto version_id = json::required_string(*body, "room_version");
  if (!version_id.ok()) return ex->reply_error(version_id.error());
  const rooms::RoomVersion* version = rooms::find_room_version(*version_id);
  if (!version) {
    Error e = Error::with(400, "M_INCOMPATIBLE_ROOM_VERSION",
                          "This server does not support room version " + *version_id);
    e.extra_json =
        "\"room_version\":" +
        json::to_string(json::Value(rapidjson::StringRef(version_id->data(), version_id->size())));
    return ex->reply_error(e);
  }
  auto event_json = json::required_object(*body, "event");
  if (!event_json.ok()) return ex->reply_error(event_json.error());
  rapidjson::Document pdu;
  pdu.CopyFrom(**event_json, pdu.GetAllocator());
  auto parsed = rooms::Event::from_json(std::move(pdu), *version);
  if (!parsed.ok()) return ex->reply_error(parsed.error());
  rooms::EventPtr ev = *parsed;
  if (auto s = check_invite_event(*ev, origin, room_id, event_id, local_.server_name); !s.ok()) {
    return ex->reply_error(s.error());
  }
  auto room_state = parse_invite_room_state(*body, *version, room_id);
  if (!room_state.ok()) return ex->reply_error(room_state.error());
  {
    auto txn = store_.begin_read();
    if (auto s = check_server_acl(*txn, room_id, origin); !s.ok())
      return ex->reply_error(s.error());
    auto user = accounts::get_user(*txn, *ev->state_key());
    if (!user || user->deactivated) return ex->reply_error(Error::not_found("Unknown user"));
    if (local_.policy) {
      if (auto s = local_.policy->check_remote(*txn, *ev); !s.ok())
        return ex->reply_error(s.error());
    }
  }
  check_pdu_signatures(
      keys_, ev, [this, ex, ev, version, state = std::move(*room_state)](Status signed_ok) mutable {
        if (!signed_ok.ok())
          return ex->reply_error(Error::invalid_param(signed_ok.error().message));
        check_invite_room_state(keys_, std::move(state),
                                [this, ex, ev, version](Result<json::Document> pdus) {
                                  if (!pdus.ok()) return ex->reply_error(pdus.error());
                                  countersign_invite(ex, ev, *version, std::move(*pdus));
                                });
      });
}

// The invite checked: signs it, keeps it with its room state for the invitee's /sync unless
// this server is in the room (the invite then arrives in a transaction too), answers it.
void Membership::countersign_invite(const http::ExchangePtr& ex, const rooms::EventPtr& ev,
                                    const rooms::RoomVersion& version,
                                    json::Document invite_room_state) {
  json::Document stored_doc;
  stored_doc.CopyFrom(ev->json(), stored_doc.GetAllocator());
  if (!rooms::sign_pdu(stored_doc, version, local_.server_name, *local_.key)) {
    return ex->reply_error(Error::bad_json("The invite is not canonical JSON"));
  }
  auto reply = std::make_shared<json::Document>(json::object());
  json::set(*reply, "event", json::Value(stored_doc, reply->GetAllocator()), reply->GetAllocator());
  // The stored copy keeps the room state (full PDUs, stripped for /sync).
  auto& a = stored_doc.GetAllocator();
  auto u = stored_doc.FindMember("unsigned");
  if (u == stored_doc.MemberEnd() || !u->value.IsObject()) {
    stored_doc.RemoveMember("unsigned");
    json::set(stored_doc, "unsigned", json::Value(rapidjson::kObjectType), a);
  }
  json::set(stored_doc["unsigned"], "invite_room_state", json::Value(invite_room_state, a), a);
  auto signed_event = rooms::Event::from_json(std::move(stored_doc), version);
  if (!signed_event.ok()) return ex->reply_error(signed_event.error());
  rooms::EventPtr stored = *signed_event;
  write<bool>(
      store_,
      [this, stored](storage::WriteTxn& txn) -> Result<bool> {
        if (has_local_members(txn, stored->room_id(), local_.server_name)) return false;
        if (auto m = rooms::membership(txn, *stored->state_key(), stored->room_id());
            m && m->event_id == stored->event_id()) {
          return false;  // a retried invite
        }
        storage::Status status;
        rooms::append_membership_outside_room(txn, *stored, &status);
        HAVEN_TRY(check(status));
        return true;
      },
      [this, ex, stored, reply](Result<bool> r) {
        if (!r.ok()) return ex->reply_error(r.error());
        if (*r) appended_(stored);
        ex->reply_json(200, *reply);
      });
}

void Membership::invite(const rooms::EventPtr& invite, json::Document invite_room_state,
                        std::function<void(Result<rooms::EventPtr>)> done) {
  const std::string destination(rooms::server_name_of(*invite->state_key()));
  auto body = json::object();
  auto& a = body.GetAllocator();
  json::set(body, "room_version", std::string(invite->version().id), a);
  json::set(body, "event", json::Value(invite->json(), a), a);
  json::set(body, "invite_room_state", json::Value(invite_room_state, a), a);
  OutboundRequest request;
  request.destination = destination;
  request.method = "PUT";
  request.target = "/_matrix/federation/v2/invite/" + encode_path_segment(invite->room_id()) + "/" +
                   encode_path_segment(invite->event_id());
  request.json_body = json::to_string(body);
  client_.send(std::move(request), [this, invite, destination,
                                    done = std::move(done)](Result<OutboundResponse> r) {
    if (!r.ok()) return done(std::move(r).error());
    auto answer = json::parse_object(r->body, config_.max_json_depth);
    if (r->status != 200 || !answer.ok()) {
      std::string why = answer.ok() ? json::get_string(*answer, "error") : r->body.substr(0, 200);
      return done(Error::forbidden(destination + " refused the invite: " + why));
    }
    auto event_json = json::required_object(*answer, "event");
    if (!event_json.ok())
      return done(Error::with(502, "M_UNKNOWN", destination + " sent no event"));
    rapidjson::Document pdu;
    pdu.CopyFrom(**event_json, pdu.GetAllocator());
    auto signed_event = rooms::Event::from_json(std::move(pdu), invite->version());
    if (!signed_event.ok() || (*signed_event)->event_id() != invite->event_id() ||
        !content_hash_matches(**signed_event)) {
      return done(Error::with(502, "M_UNKNOWN", destination + " changed the invite"));
    }
    rooms::EventPtr ev = *signed_event;
    check_server_signature(keys_, ev, destination, [ev, destination, done](Status s) {
      if (!s.ok()) return done(Error::with(502, "M_UNKNOWN", s.error().message));
      done(ev);
    });
  });
}

}  // namespace haven::federation
