// Membership across servers (the spec's "Joining rooms", "Leaving rooms", "Inviting to a
// room"), both sides: the resident server's make_join, send_join, make_leave, send_leave; the
// invited server's invite; and this server's own users joining, leaving and inviting through
// other servers (rooms::RemoteMembership, for the client API).
// Built once by `haven serve` after the Federation; loop thread only.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "conf/config.h"
#include "federation/client.h"
#include "federation/key_ring.h"
#include "federation/outbox.h"
#include "federation/pdu_intake.h"
#include "federation/request_auth.h"
#include "homeserver/http/router.h"
#include "homeserver/rooms/remote_membership.h"
#include "homeserver/rooms/room_service.h"
#include "storage/store.h"

namespace haven::federation {

class Membership : public rooms::RemoteMembership {
 public:
  // Called on the loop thread once an event this class stored is durable: wakes the local
  // users concerned (syncs, pushers, application services), as for local events.
  using Appended = std::function<void(const rooms::EventPtr&)>;

  // `intake`: where send_join / send_leave events go through the checks of any received PDU
  // (nullptr: this server refuses them). `outbox`: sends the joins and leaves accepted here to
  // the room's other servers (nullptr: not sent).
  Membership(const conf::Config& config, storage::Store& store, FederationClient& client,
             KeyRing& keys, PduIntake* intake, Outbox* outbox, rooms::LocalServer local,
             Appended appended);

  // PUT /_matrix/federation/v2/invite, GET make_join / make_leave, PUT v2 send_join /
  // send_leave.
  void register_routes(http::Router& router, RequestVerifier& verifier);

  void resolve_alias(const std::string& alias,
                     std::function<void(Result<rooms::RemoteAlias>)> done) override;
  void join(const std::string& user_id, const std::string& room_id,
            std::vector<std::string> servers, json::Document content,
            std::function<void(Result<rooms::EventPtr>)> done) override;
  void leave(const std::string& user_id, const std::string& room_id,
             std::vector<std::string> servers, json::Document content,
             std::function<void(Result<rooms::EventPtr>)> done) override;
  void invite(const rooms::EventPtr& invite, json::Document invite_room_state,
              std::function<void(Result<rooms::EventPtr>)> done) override;

 private:
  // Resident side (membership_resident.cpp).
  void make_membership(const http::ExchangePtr& ex, const std::string& origin,
                       const std::string& membership);
  void send_membership(const http::ExchangePtr& ex, const std::string& origin,
                       const std::string& membership);
  // Invited side (membership_invite.cpp).
  void receive_invite(const http::ExchangePtr& ex, const std::string& origin);
  void countersign_invite(const http::ExchangePtr& ex, const rooms::EventPtr& ev,
                          const rooms::RoomVersion& version, json::Document invite_room_state);

  // Joining side (membership_join.cpp): one attempt through `server`.
  struct Attempt;
  // A join or leave through `servers` (membership "join" or "leave").
  void start(const std::string& user_id, const std::string& room_id, std::string membership,
             std::vector<std::string> servers, json::Document content,
             std::function<void(Result<rooms::EventPtr>)> done);
  void make_and_send(std::shared_ptr<Attempt> attempt);
  void send_event(std::shared_ptr<Attempt> attempt);
  void store_join(std::shared_ptr<Attempt> attempt, json::Document response);

  const conf::Config& config_;
  storage::Store& store_;
  FederationClient& client_;
  KeyRing& keys_;
  PduIntake* intake_;
  Outbox* outbox_;
  rooms::LocalServer local_;
  Appended appended_;
};

}  // namespace haven::federation
