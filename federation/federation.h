// The Server-Server API's transport and trust, wired together: server discovery, the signing
// federation client, the key ring (key store) and the verifier of inbound requests, plus the
// federation listener's routes. Built once by `haven serve` on the main thread (the loop
// thread); used on the loop thread.
//
// Other federation code uses:
//   client()   to send signed requests to other servers (FederationClient::send),
//   verifier() to register routes that only authenticated servers reach
//              (RequestVerifier::add_route gives the handler the origin server's name),
//   keys()     to get a server's key for checking event signatures (KeyRing::get_key with
//              KeyUse::kEvent and the event's origin_server_ts),
//   allowed()  to ask whether a server may be federated with at all,
//   edus()     to register handlers of inbound EDU types (before register_routes),
//   intake()   to feed PDUs received outside /send (e.g. send_join) through the checks.
#pragma once

#include <memory>
#include <string>

#include "conf/config.h"
#include "crypto/ed25519.h"
#include "federation/allow_list.h"
#include "federation/client.h"
#include "federation/dns_srv.h"
#include "federation/edu_handlers.h"
#include "federation/key_ring.h"
#include "federation/pdu_intake.h"
#include "federation/remote_room_source.h"
#include "federation/request_auth.h"
#include "federation/resolver.h"
#include "federation/tls_policy.h"
#include "federation/well_known_fetch.h"
#include "homeserver/base/loop.h"
#include "homeserver/http/router.h"
#include "storage/store.h"

namespace haven::federation {

// federation.test_host_overrides entries ("name=host:port") as a map; the config loader has
// checked their form.
std::map<std::string, std::string> host_overrides(const conf::Federation& config);

class Federation {
 public:
  // Records `key` as this server's current key (keeping a replaced key as an old key) before
  // anything is served: blocks on the store, so call it at start-up. Throws nothing; a
  // storage failure is returned in `error` and leaves the object unusable (ok() false).
  Federation(const conf::Config& config, Loop& loop, storage::Store& store,
             const crypto::SigningKey& key);
  // Stops the client's threads first: their running jobs use the key ring.
  ~Federation();
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  // Receiving rooms' events: builds the PDU intake (signatures verified on `workers`;
  // `appended` told of every event received into a timeline). Before register_routes, which
  // then serves /send and the event and state reads.
  void start_inbound(WorkerPool& workers, PduIntake::Appended appended);

  // The routes of the federation listener: /_matrix/federation/v1/version, the key API
  // (/_matrix/key/v2/server, /_matrix/key/v2/query), the queries and, once start_inbound ran,
  // /send and the room reads.
  void register_routes(http::Router& router);

  FederationClient& client() { return *client_; }
  KeyRing& keys() { return *keys_; }
  RequestVerifier& verifier() { return *verifier_; }
  const ServerAllowList& allowed() const { return allowed_; }
  EduHandlers& edus() { return edus_; }
  PduIntake* intake() { return intake_.get(); }

 private:
  const conf::Config& config_;
  storage::Store& store_;
  std::string error_;
  ServerAllowList allowed_;
  TlsPolicy tls_;
  SystemDns dns_;
  HttpsWellKnown well_known_;
  Resolver resolver_;
  std::unique_ptr<FederationClient> client_;
  std::unique_ptr<KeyRing> keys_;
  std::unique_ptr<RequestVerifier> verifier_;
  Loop& loop_;
  EduHandlers edus_;
  std::unique_ptr<FederationRoomSource> room_source_;
  std::unique_ptr<PduIntake> intake_;
};

}  // namespace haven::federation
