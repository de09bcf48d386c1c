// Federation API: this server's published room directory for other servers
// (GET and POST /_matrix/federation/v1/publicRooms). Rooms that do not federate are not shown.
#include "federation/routes.h"
#include "homeserver/rooms/room_directory.h"

namespace haven::federation {

namespace {

void answer(const http::ExchangePtr& ex, storage::Store& store, const conf::Config& config,
            const Result<rooms::PublicRoomsQuery>& query) {
  if (!query.ok()) return ex->reply_error(query.error());
  auto txn = store.begin_read();
  if (!txn) return ex->reply_error(Error::unknown("The store is not available"));
  auto page = rooms::list_public_rooms(*txn, config.server_name, *query, /*for_federation=*/true);
  if (!page.ok()) return ex->reply_error(page.error());
  ex->reply_json(200, *page);
}

}  // namespace

void register_public_rooms_routes(http::Router& router, RequestVerifier& verifier,
                                  storage::Store& store, const conf::Config& config) {
  // GET /_matrix/federation/v1/publicRooms
  verifier.add_route(router, "GET", "/_matrix/federation/v1/publicRooms",
                     [&store, &config](const http::ExchangePtr& ex, const std::string&) {
                       answer(
                           ex, store, config,
                           rooms::parse_public_rooms_params(ex->query("limit"), ex->query("since"),
                                                            ex->query("include_all_networks"),
                                                            ex->query("third_party_instance_id")));
                     });
  // POST /_matrix/federation/v1/publicRooms
  verifier.add_route(router, "POST", "/_matrix/federation/v1/publicRooms",
                     [&store, &config](const http::ExchangePtr& ex, const std::string&) {
                       auto body = json::parse_object(ex->body(), config.max_json_depth);
                       if (!body.ok()) return ex->reply_error(body.error());
                       answer(ex, store, config, rooms::parse_public_rooms_body(*body));
                     });
}

}  // namespace haven::federation
