// The federation listener's handlers, one registration function per API area (each in its
// own file). Registered once at start-up; the handlers run on the loop thread.
#pragma once

#include "conf/config.h"
#include "federation/allow_list.h"
#include "federation/edu_handlers.h"
#include "federation/key_ring.h"
#include "federation/pdu_intake.h"
#include "federation/request_auth.h"
#include "homeserver/http/router.h"
#include "storage/store.h"

namespace haven::federation {

// GET /_matrix/federation/v1/version (server_routes.cpp)
void register_server_routes(http::Router& router);
// GET /_matrix/key/v2/server, GET /_matrix/key/v2/query/{serverName},
// POST /_matrix/key/v2/query (key_routes.cpp)
void register_key_routes(http::Router& router, KeyRing& keys, const ServerAllowList& allowed,
                         int max_json_depth);
// GET /_matrix/federation/v1/query/profile, /query/directory (query_routes.cpp)
void register_query_routes(http::Router& router, RequestVerifier& verifier, storage::Store& store,
                           const conf::Config& config);
// GET and POST /_matrix/federation/v1/publicRooms (public_rooms_routes.cpp)
void register_public_rooms_routes(http::Router& router, RequestVerifier& verifier,
                                  storage::Store& store, const conf::Config& config);
// GET /_matrix/federation/v1/user/devices/{userId}, POST /_matrix/federation/v1/user/keys/query,
// POST /_matrix/federation/v1/user/keys/claim (user_routes.cpp)
void register_user_routes(http::Router& router, RequestVerifier& verifier, storage::Store& store,
                          const conf::Config& config);

// GET /_matrix/federation/v1/event/{eventId}, /state/{roomId}, /state_ids/{roomId},
// /event_auth/{roomId}/{eventId}, /backfill/{roomId}; POST /get_missing_events/{roomId}
// (event_routes.cpp)
void register_event_routes(http::Router& router, RequestVerifier& verifier, storage::Store& store,
                           const conf::Config& config);
// PUT /_matrix/federation/v1/send/{txnId} (transaction_routes.cpp)
void register_transaction_routes(http::Router& router, RequestVerifier& verifier,
                                 storage::Store& store, PduIntake& intake, const EduHandlers& edus,
                                 int max_json_depth);

}  // namespace haven::federation
