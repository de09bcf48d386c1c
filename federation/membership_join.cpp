// The joining side of membership across servers: resolving a remote alias, joining and
// leaving rooms through a resident server (make_join/send_join, make_leave/send_leave), and
// the wiring of the membership routes.
#include "crypto/json_signing.h"
#include "federation/membership.h"
#include "federation/pdu_checks.h"
#include "federation/send_join_response.h"
#include "federation/url_path.h"
#include "homeserver/base/write.h"
#include "homeserver/rooms/event_builder.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/ids.h"
#include "storage/keys.h"

namespace haven::federation {

struct Membership::Attempt {
  std::string user_id;
  std::string room_id;
  std::string membership;  // join or leave
  std::vector<std::string> servers;
  size_t next = 0;
  json::Document content;  // extra content keys of the event (displayname, avatar_url, reason)
  std::function<void(Result<rooms::EventPtr>)> done;
  Error last_error = Error::not_found("No server in the room could be reached");
  // The current try.
  std::string server;
  const rooms::RoomVersion* version = nullptr;
  rooms::EventPtr event;
};

namespace {

// An error answer of another server, as the error of this server's client request.
Error remote_error(const std::string& server, const OutboundResponse& r) {
  auto body = json::parse_object(r.body);
  std::string errcode = body.ok() ? json::get_string(*body, "errcode", "M_UNKNOWN") : "M_UNKNOWN";
  std::string message = body.ok() ? json::get_string(*body, "error") : "";
  int status = (r.status == 403 || r.status == 404) ? r.status : 502;
  if (errcode == "M_INCOMPATIBLE_ROOM_VERSION") status = 400;
  return Error::with(status, errcode, server + ": " + (message.empty() ? "refused" : message));
}

// The spec's checks on a make_join / make_leave template.
Status check_template(const json::Value& ev, const std::string& room_id, const std::string& user_id,
                      const std::string& membership) {
  if (!ev.IsObject()) return Error::with(502, "M_UNKNOWN", "The event template is not an object");
  auto content = ev.FindMember("content");
  bool ok =
      json::get_string(ev, "room_id") == room_id && json::get_string(ev, "sender") == user_id &&
      json::get_string(ev, "state_key") == user_id &&
      json::get_string(ev, "type") == "m.room.member" && content != ev.MemberEnd() &&
      content->value.IsObject() && json::get_string(content->value, "membership") == membership;
  if (!ok) return Error::with(502, "M_UNKNOWN", "The resident server sent a malformed template");
  return {};
}

// The template, completed with this server's content, timestamp, hash and signature.
Result<rooms::EventPtr> complete_template(const json::Value& templ, const json::Value& extra,
                                          const rooms::RoomVersion& version,
                                          const rooms::LocalServer& local) {
  rapidjson::Document pdu;
  pdu.CopyFrom(templ, pdu.GetAllocator());
  auto& a = pdu.GetAllocator();
  for (const char* key : {"hashes", "signatures", "unsigned", "event_id"}) pdu.RemoveMember(key);
  json::Value& content = pdu["content"];
  for (const auto& m : extra.GetObject()) {
    if (content.HasMember(m.name)) continue;
    content.AddMember(json::Value(m.name, a), json::Value(m.value, a), a);
  }
  json::set(pdu, "origin_server_ts", now_ms(), a);
  if (!crypto::add_content_hash(pdu, a) ||
      !rooms::sign_pdu(pdu, version, local.server_name, *local.key)) {
    return Error::bad_json("The event template is not canonical JSON");
  }
  return rooms::Event::from_json(std::move(pdu), version);
}

}  // namespace

Membership::Membership(const conf::Config& config, storage::Store& store, FederationClient& client,
                       KeyRing& keys, PduIntake* intake, Outbox* outbox,
                       rooms::LocalServer local, Appended appended)
    : config_(config),
      store_(store),
      client_(client),
      keys_(keys),
      intake_(intake),
      outbox_(outbox),
      local_(std::move(local)),
      appended_(std::move(appended)) {}

void Membership::register_routes(http::Router& router, RequestVerifier& verifier) {
  for (const char* membership : {"join", "leave"}) {
    const std::string m = membership;
    verifier.add_route(router, "GET", "/_matrix/federation/v1/make_" + m + "/{roomId}/{userId}",
                       [this, m](const http::ExchangePtr& ex, const std::string& origin) {
                         make_membership(ex, origin, m);
                       });
    verifier.add_route(router, "PUT", "/_matrix/federation/v2/send_" + m + "/{roomId}/{eventId}",
                       [this, m](const http::ExchangePtr& ex, const std::string& origin) {
                         send_membership(ex, origin, m);
                       });
  }
  verifier.add_route(router, "PUT", "/_matrix/federation/v2/invite/{roomId}/{eventId}",
                     [this](const http::ExchangePtr& ex, const std::string& origin) {
                       receive_invite(ex, origin);
                     });
}

void Membership::resolve_alias(const std::string& alias,
                               std::function<void(Result<rooms::RemoteAlias>)> done) {
  OutboundRequest request;
  request.destination = std::string(rooms::server_name_of(alias));
  request.target =
      "/_matrix/federation/v1/query/directory?room_alias=" + encode_path_segment(alias);
  client_.send(
      std::move(request), [this, alias, done = std::move(done)](Result<OutboundResponse> r) {
        if (!r.ok()) return done(std::move(r).error());
        if (r->status == 404) return done(Error::not_found("Room alias " + alias + " not found"));
        if (r->status != 200)
          return done(remote_error(std::string(rooms::server_name_of(alias)), *r));
        auto body = json::parse_object(r->body, config_.max_json_depth);
        if (!body.ok()) return done(Error::with(502, "M_UNKNOWN", "Bad directory answer"));
        rooms::RemoteAlias out;
        out.room_id = json::get_string(*body, "room_id");
        if (!rooms::is_valid_room_id(out.room_id)) {
          return done(Error::with(502, "M_UNKNOWN", "The directory answer has no valid room_id"));
        }
        auto servers = json::optional_string_list(*body, "servers");
        if (servers.ok() && *servers) out.servers = std::move(**servers);
        done(std::move(out));
      });
}

void Membership::join(const std::string& user_id, const std::string& room_id,
                      std::vector<std::string> servers, json::Document content,
                      std::function<void(Result<rooms::EventPtr>)> done) {
  start(user_id, room_id, "join", std::move(servers), std::move(content), std::move(done));
}

void Membership::leave(const std::string& user_id, const std::string& room_id,
                       std::vector<std::string> servers, json::Document content,
                       std::function<void(Result<rooms::EventPtr>)> done) {
  start(user_id, room_id, "leave", std::move(servers), std::move(content), std::move(done));
}

void Membership::start(const std::string& user_id, const std::string& room_id,
                       std::string membership, std::vector<std::string> servers,
                       json::Document content, std::function<void(Result<rooms::EventPtr>)> done) {
  auto attempt = std::make_shared<Attempt>();
  attempt->user_id = user_id;
  attempt->room_id = room_id;
  attempt->membership = std::move(membership);
  attempt->servers = std::move(servers);
  attempt->content = std::move(content);
  attempt->done = std::move(done);
  make_and_send(attempt);
}

// One try through the next server: make_*, complete and sign, send_*; the next server on
// failure.
void Membership::make_and_send(std::shared_ptr<Attempt> attempt) {
  while (attempt->next < attempt->servers.size() &&
         attempt->servers[attempt->next] == local_.server_name) {
    ++attempt->next;
  }
  if (attempt->next >= attempt->servers.size()) return attempt->done(attempt->last_error);
  attempt->server = attempt->servers[attempt->next++];
  OutboundRequest make;
  make.destination = attempt->server;
  make.target = "/_matrix/federation/v1/make_" + attempt->membership + "/" +
                encode_path_segment(attempt->room_id) + "/" + encode_path_segment(attempt->user_id);
  if (attempt->membership == "join") {
    char sep = '?';
    for (const rooms::RoomVersion* v : rooms::supported_room_versions()) {
      make.target += sep + std::string("ver=") + std::string(v->id);
      sep = '&';
    }
  }
  client_.send(std::move(make), [this, attempt](Result<OutboundResponse> r) {
    auto retry = [this, attempt](Error e) {
      attempt->last_error = std::move(e);
      make_and_send(attempt);
    };
    if (!r.ok()) return retry(std::move(r).error());
    if (r->status != 200) return retry(remote_error(attempt->server, *r));
    auto body = json::parse_object(r->body, config_.max_json_depth);
    if (!body.ok()) return retry(Error::with(502, "M_UNKNOWN", "Bad make_ answer"));
    std::string version_id = json::get_string(*body, "room_version", "1");
    attempt->version = rooms::find_room_version(version_id);
    if (!attempt->version) {
      return retry(Error::with(400, "M_INCOMPATIBLE_ROOM_VERSION",
                               "This server does not support room version " + version_id));
    }
    auto templ = body->FindMember("event");
    if (templ == body->MemberEnd())
      return retry(Error::with(502, "M_UNKNOWN", "No event template"));
    if (auto s =
            check_template(templ->value, attempt->room_id, attempt->user_id, attempt->membership);
        !s.ok()) {
      return retry(s.error());
    }
    auto ev = complete_template(templ->value, attempt->content, *attempt->version, local_);
    if (!ev.ok()) return retry(ev.error());
    attempt->event = *ev;
    if (!local_.policy) return send_event(attempt);
    // The care rules hold for this server's users in other servers' rooms too.
    write<bool>(
        store_,
        [policy = local_.policy, ev = attempt->event](storage::WriteTxn& txn) -> Result<bool> {
          HAVEN_TRY(policy->check(txn, *ev));
          return false;
        },
        [this, attempt](Result<bool> allowed) {
          if (!allowed.ok()) return attempt->done(std::move(allowed).error());
          send_event(attempt);
        });
  });
}

// PUT send_join / send_leave with the signed event; the join's answer is checked and stored,
// a leave is recorded.
void Membership::send_event(std::shared_ptr<Attempt> attempt) {
  auto retry = [this, attempt](Error e) {
    attempt->last_error = std::move(e);
    make_and_send(attempt);
  };
  OutboundRequest send;
  send.destination = attempt->server;
  send.method = "PUT";
  send.target = "/_matrix/federation/v2/send_" + attempt->membership + "/" +
                encode_path_segment(attempt->room_id) + "/" +
                encode_path_segment(attempt->event->event_id());
  send.json_body = json::to_string(attempt->event->json());
  send.max_response_bytes = 256 << 20;  // the whole state of a big room
  send.timeout_s = 300;
  client_.send(std::move(send), [this, attempt, retry](Result<OutboundResponse> r) {
    if (!r.ok()) return retry(std::move(r).error());
    if (r->status != 200) return retry(remote_error(attempt->server, *r));
    auto body = json::parse_object(r->body, config_.max_json_depth);
    if (!body.ok()) return retry(Error::with(502, "M_UNKNOWN", "Bad send_ answer"));
    if (attempt->membership == "join") return store_join(attempt, std::move(*body));
    write<bool>(
        store_,
        [ev = attempt->event](storage::WriteTxn& txn) -> Result<bool> {
          storage::Status status;
          rooms::append_membership_outside_room(txn, *ev, &status);
          HAVEN_TRY(check(status));
          return true;
        },
        [this, attempt](Result<bool> stored) {
          if (!stored.ok()) return attempt->done(std::move(stored).error());
          appended_(attempt->event);
          attempt->done(attempt->event);
        });
  });
}

// Checks the send_join answer's events, then stores them and the join on that state.
void Membership::store_join(std::shared_ptr<Attempt> attempt, json::Document response) {
  auto checked = std::make_shared<SendJoinResponse>();
  auto parsed =
      parse_send_join_response(response, *attempt->version, attempt->event, checked.get());
  if (!parsed.ok()) {
    attempt->last_error = parsed.error();
    return make_and_send(attempt);
  }
  check_pdus_signatures(keys_, checked->events, [this, attempt, checked](std::vector<Status> sigs) {
    auto room_state = resolve_send_join_response(*checked, sigs, attempt->room_id);
    if (!room_state.ok()) {
      attempt->last_error = room_state.error();
      return make_and_send(attempt);
    }
    auto accepted = std::make_shared<AcceptedJoinState>(std::move(*room_state));
    write<bool>(
        store_,
        [this, attempt, accepted](storage::WriteTxn& txn) -> Result<bool> {
          return store_accepted_join(txn, *accepted, attempt->room_id, local_);
        },
        [this, attempt, accepted](Result<bool> stored) {
          if (!stored.ok()) return attempt->done(std::move(stored).error());
          appended_(accepted->join);
          attempt->done(accepted->join);
        });
  });
}

}  // namespace haven::federation
