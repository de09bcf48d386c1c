// Federation API: reading a room's events and state (/event, /state, /state_ids, /event_auth,
// /backfill, /get_missing_events), for servers in the room, within history visibility.
#include <deque>
#include <set>

#include "federation/routes.h"
#include "federation/server_acl.h"
#include "homeserver/base/json.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/ids.h"
#include "homeserver/rooms/redaction.h"
#include "homeserver/rooms/server_access.h"

namespace haven::federation {
namespace {

constexpr size_t kMaxAuthChain = 50'000;
constexpr int64_t kMaxEventsPerRequest = 100;
constexpr size_t kMaxEventIdsInRequest = 100;

// The PDU as other servers get it: without "unsigned" (this server's own annotations).
json::Value pdu_of(const rooms::Event& event, json::Alloc& a) {
  json::Value out;
  out.CopyFrom(event.json(), a);
  out.RemoveMember("unsigned");
  return out;
}

// What a server that may not see an event gets of it: its redacted form.
json::Value visible_pdu(storage::ReadTxn& txn, const std::string& origin,
                        const rooms::Event& event, bool in_room, json::Alloc& a) {
  if (rooms::server_may_see_event(txn, origin, event, in_room)) return pdu_of(event, a);
  json::Document redacted = rooms::redact(event.json(), event.version());
  json::Value out;
  out.CopyFrom(redacted, a);
  return out;
}

json::Document envelope(const std::string& own_name) {
  auto d = json::object();
  json::set(d, "origin", own_name, d.GetAllocator());
  json::set(d, "origin_server_ts", now_ms(), d.GetAllocator());
  return d;
}

// The room must exist here and have `origin` in it; M_NOT_FOUND / M_FORBIDDEN otherwise.
Status check_in_room(storage::ReadTxn& txn, const std::string& origin,
                     const std::string& room_id) {
  if (!rooms::get_room(txn, room_id)) return Error::not_found("Unknown room " + room_id);
  HAVEN_TRY(check_server_acl(txn, room_id, origin));
  if (!rooms::server_in_room(txn, origin, room_id)) {
    return Error::forbidden(origin + " is not in room " + room_id);
  }
  return {};
}

// A stored (non-outlier-only, non-rejected) event of `room_id`, or M_NOT_FOUND.
Result<rooms::StoredEvent> event_in_room(storage::ReadTxn& txn, const std::string& room_id,
                                         const std::string& event_id) {
  auto stored = rooms::get_event(txn, event_id);
  if (!stored || stored->event->room_id() != room_id) {
    return Error::not_found("Unknown event " + event_id + " in room " + room_id);
  }
  return std::move(*stored);
}

// GET /_matrix/federation/v1/event/{eventId}
void get_event(storage::Store& store, const std::string& own_name, const http::ExchangePtr& ex,
               const std::string& origin) {
  auto txn = store.begin_read();
  if (!txn) return ex->reply_error(Error::unknown("The store is busy"));
  auto stored = rooms::get_event(*txn, ex->params[0]);
  if (!stored) return ex->reply_error(Error::not_found("Unknown event"));
  const rooms::Event& event = *stored->event;
  if (auto s = check_server_acl(*txn, event.room_id(), origin); !s.ok()) {
    return ex->reply_error(s.error());
  }
  bool in_room = rooms::server_in_room(*txn, origin, event.room_id());
  if (!rooms::server_may_see_event(*txn, origin, event, in_room)) {
    return ex->reply_error(Error::forbidden(origin + " may not see this event"));
  }
  auto d = envelope(own_name);
  auto& a = d.GetAllocator();
  json::Value pdus(rapidjson::kArrayType);
  pdus.PushBack(pdu_of(event, a), a);
  json::set(d, "pdus", std::move(pdus), a);
  ex->reply_json(200, d);
}

// GET /_matrix/federation/v1/state/{roomId}?event_id= and /state_ids/{roomId}?event_id=
void get_state(storage::Store& store, const http::ExchangePtr& ex, const std::string& origin,
               bool ids_only) {
  const std::string& room_id = ex->params[0];
  auto event_id = ex->query("event_id");
  if (!event_id) return ex->reply_error(Error::missing_param("Missing event_id"));
  auto txn = store.begin_read();
  if (!txn) return ex->reply_error(Error::unknown("The store is busy"));
  if (auto s = check_in_room(*txn, origin, room_id); !s.ok()) return ex->reply_error(s.error());
  auto stored = event_in_room(*txn, room_id, *event_id);
  if (!stored.ok()) return ex->reply_error(stored.error());
  if (!rooms::server_may_see_event(*txn, origin, *stored->event, true)) {
    return ex->reply_error(Error::forbidden(origin + " may not see the state at this event"));
  }
  auto state = rooms::state_ids_before(*txn, *stored->event);
  if (!state) return ex->reply_error(Error::not_found("The state at this event is not known"));
  std::vector<std::string> ids;
  for (const auto& [key, id] : *state) ids.push_back(id);
  auto chain = rooms::auth_chain(*txn, ids, kMaxAuthChain);

  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value state_list(rapidjson::kArrayType), chain_list(rapidjson::kArrayType);
  for (const auto& id : ids) {
    if (ids_only) {
      state_list.PushBack(json::str(id, a), a);
    } else if (auto ev = rooms::get_event(*txn, id)) {
      state_list.PushBack(pdu_of(*ev->event, a), a);
    }
  }
  for (const auto& ev : chain) {
    chain_list.PushBack(ids_only ? json::str(ev->event_id(), a) : pdu_of(*ev, a), a);
  }
  json::set(d, ids_only ? "pdu_ids" : "pdus", std::move(state_list), a);
  json::set(d, ids_only ? "auth_chain_ids" : "auth_chain", std::move(chain_list), a);
  ex->reply_json(200, d);
}

// GET /_matrix/federation/v1/event_auth/{roomId}/{eventId}
void get_event_auth(storage::Store& store, const http::ExchangePtr& ex,
                    const std::string& origin) {
  const std::string& room_id = ex->params[0];
  auto txn = store.begin_read();
  if (!txn) return ex->reply_error(Error::unknown("The store is busy"));
  if (auto s = check_in_room(*txn, origin, room_id); !s.ok()) return ex->reply_error(s.error());
  auto stored = event_in_room(*txn, room_id, ex->params[1]);
  if (!stored.ok()) return ex->reply_error(stored.error());
  if (!rooms::server_may_see_event(*txn, origin, *stored->event, true)) {
    return ex->reply_error(Error::forbidden(origin + " may not see this event"));
  }
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value chain(rapidjson::kArrayType);
  for (const auto& ev : rooms::auth_chain(*txn, {stored->event->event_id()}, kMaxAuthChain)) {
    chain.PushBack(pdu_of(*ev, a), a);
  }
  json::set(d, "auth_chain", std::move(chain), a);
  ex->reply_json(200, d);
}

// Walks prev_events back from `from`, breadth first: the events met, up to `limit`, leaving
// out `stop` and, unless `include_from`, `from` itself.
std::vector<rooms::EventPtr> walk_back(storage::ReadTxn& txn, const std::string& room_id,
                                       const std::vector<std::string>& from,
                                       const std::set<std::string>& stop, bool include_from,
                                       int64_t min_depth, size_t limit) {
  std::set<std::string> seen(stop.begin(), stop.end());
  std::deque<std::string> queue;
  std::vector<rooms::EventPtr> out;
  for (const auto& id : from) {
    if (!seen.insert(id).second) continue;
    auto stored = rooms::get_event(txn, id);
    if (!stored || stored->event->room_id() != room_id) continue;
    if (include_from) out.push_back(stored->event);
    for (const auto& p : stored->event->prev_events()) queue.push_back(p);
  }
  while (!queue.empty() && out.size() < limit) {
    std::string id = std::move(queue.front());
    queue.pop_front();
    if (!seen.insert(id).second) continue;
    auto stored = rooms::get_event(txn, id);
    if (!stored || stored->event->room_id() != room_id) continue;
    if (stored->event->depth() < min_depth) continue;
    out.push_back(stored->event);
    for (const auto& p : stored->event->prev_events()) queue.push_back(p);
  }
  if (out.size() > limit) out.resize(limit);
  return out;
}

Result<int64_t> limit_of(std::optional<int64_t> given, int64_t fallback) {
  int64_t limit = given.value_or(fallback);
  if (limit < 0) return Error::invalid_param("limit must not be negative");
  return std::min(limit, kMaxEventsPerRequest);
}

// GET /_matrix/federation/v1/backfill/{roomId}?v=&limit=
void backfill(storage::Store& store, const std::string& own_name, const http::ExchangePtr& ex,
              const std::string& origin) {
  const std::string& room_id = ex->params[0];
  std::vector<std::string> from = ex->query_all("v");
  if (from.empty()) return ex->reply_error(Error::missing_param("Missing v"));
  if (from.size() > kMaxEventIdsInRequest) {
    return ex->reply_error(Error::invalid_param("Too many v parameters"));
  }
  auto limit_text = ex->query("limit");
  if (!limit_text) return ex->reply_error(Error::missing_param("Missing limit"));
  char* end = nullptr;
  long long given = std::strtoll(limit_text->c_str(), &end, 10);
  if (limit_text->empty() || *end != '\0') {
    return ex->reply_error(Error::invalid_param("limit must be an integer"));
  }
  auto limit = limit_of(static_cast<int64_t>(given), 10);
  if (!limit.ok()) return ex->reply_error(limit.error());
  auto txn = store.begin_read();
  if (!txn) return ex->reply_error(Error::unknown("The store is busy"));
  if (auto s = check_in_room(*txn, origin, room_id); !s.ok()) return ex->reply_error(s.error());
  auto events = walk_back(*txn, room_id, from, {}, true, 0, static_cast<size_t>(*limit));
  auto d = envelope(own_name);
  auto& a = d.GetAllocator();
  json::Value pdus(rapidjson::kArrayType);
  for (const auto& ev : events) pdus.PushBack(visible_pdu(*txn, origin, *ev, true, a), a);
  json::set(d, "pdus", std::move(pdus), a);
  ex->reply_json(200, d);
}

struct MissingEventsRequest {
  std::vector<std::string> earliest;
  std::vector<std::string> latest;
  int64_t limit = 10;
  int64_t min_depth = 0;
};

Result<MissingEventsRequest> parse_missing_events(std::string_view body, int max_depth) {
  auto doc = json::parse_object(body, max_depth);
  if (!doc.ok()) return std::move(doc).error();
  MissingEventsRequest req;
  auto earliest = json::optional_string_list(*doc, "earliest_events");
  if (!earliest.ok()) return std::move(earliest).error();
  auto latest = json::optional_string_list(*doc, "latest_events");
  if (!latest.ok()) return std::move(latest).error();
  if (!*earliest) return Error::missing_param("Missing earliest_events");
  if (!*latest) return Error::missing_param("Missing latest_events");
  req.earliest = std::move(**earliest);
  req.latest = std::move(**latest);
  if (req.earliest.size() > kMaxEventIdsInRequest || req.latest.size() > kMaxEventIdsInRequest) {
    return Error::invalid_param("Too many event ids");
  }
  auto limit = json::optional_int(*doc, "limit");
  if (!limit.ok()) return std::move(limit).error();
  auto capped = limit_of(*limit, 10);
  if (!capped.ok()) return std::move(capped).error();
  req.limit = *capped;
  auto min_depth = json::optional_int(*doc, "min_depth");
  if (!min_depth.ok()) return std::move(min_depth).error();
  req.min_depth = min_depth->value_or(0);
  return req;
}

// POST /_matrix/federation/v1/get_missing_events/{roomId}
void get_missing_events(storage::Store& store, int max_json_depth, const http::ExchangePtr& ex,
                        const std::string& origin) {
  const std::string& room_id = ex->params[0];
  auto req = parse_missing_events(ex->body(), max_json_depth);
  if (!req.ok()) return ex->reply_error(req.error());
  auto txn = store.begin_read();
  if (!txn) return ex->reply_error(Error::unknown("The store is busy"));
  if (auto s = check_in_room(*txn, origin, room_id); !s.ok()) return ex->reply_error(s.error());
  std::set<std::string> stop(req->earliest.begin(), req->earliest.end());
  auto events = walk_back(*txn, room_id, req->latest, stop, false, req->min_depth,
                          static_cast<size_t>(req->limit));
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value list(rapidjson::kArrayType);
  for (const auto& ev : events) list.PushBack(visible_pdu(*txn, origin, *ev, true, a), a);
  json::set(d, "events", std::move(list), a);
  ex->reply_json(200, d);
}

}  // namespace

void register_event_routes(http::Router& router, RequestVerifier& verifier, storage::Store& store,
                           const conf::Config& config) {
  const std::string own = config.server_name;
  verifier.add_route(router, "GET", "/_matrix/federation/v1/event/{eventId}",
                     [&store, own](const http::ExchangePtr& ex, const std::string& origin) {
                       get_event(store, own, ex, origin);
                     });
  verifier.add_route(router, "GET", "/_matrix/federation/v1/state/{roomId}",
                     [&store](const http::ExchangePtr& ex, const std::string& origin) {
                       get_state(store, ex, origin, false);
                     });
  verifier.add_route(router, "GET", "/_matrix/federation/v1/state_ids/{roomId}",
                     [&store](const http::ExchangePtr& ex, const std::string& origin) {
                       get_state(store, ex, origin, true);
                     });
  verifier.add_route(router, "GET", "/_matrix/federation/v1/event_auth/{roomId}/{eventId}",
                     [&store](const http::ExchangePtr& ex, const std::string& origin) {
                       get_event_auth(store, ex, origin);
                     });
  verifier.add_route(router, "GET", "/_matrix/federation/v1/backfill/{roomId}",
                     [&store, own](const http::ExchangePtr& ex, const std::string& origin) {
                       backfill(store, own, ex, origin);
                     });
  const int depth = config.max_json_depth;
  verifier.add_route(router, "POST", "/_matrix/federation/v1/get_missing_events/{roomId}",
                     [&store, depth](const http::ExchangePtr& ex, const std::string& origin) {
                       get_missing_events(store, depth, ex, origin);
                     });
}

}  // namespace haven::federation
