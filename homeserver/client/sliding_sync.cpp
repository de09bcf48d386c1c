// Client-Server API: simplified sliding sync (MSC4186), POST
// .../org.matrix.simplified_msc3575/sync, long-polling on the notifier, with the per-connection
// state of sync/sliding_connections.h.
#include <algorithm>
#include <cstdlib>

#include "homeserver/client/long_poll.h"
#include "homeserver/client/routes.h"
#include "homeserver/client/sliding_builder.h"
#include "homeserver/client/sync_rooms.h"
#include "homeserver/sync/sliding_connections.h"
#include "homeserver/sync/streams.h"

namespace haven::client {

namespace {

constexpr int64_t kMaxTimeoutMs = 5 * 60 * 1000;
const char* const kPath = "/_matrix/client/unstable/org.matrix.simplified_msc3575/sync";

Error unknown_pos(std::string message) {
  return Error::with(400, "M_UNKNOWN_POS", std::move(message));
}

// `pos`, `timeout` and `set_presence` from the query string (where deployed clients put them)
// override the body's.
Status apply_query(const http::Exchange& ex, sync::SlidingRequest& req) {
  if (auto pos = ex.query("pos"); pos) req.pos = *pos;
  if (auto t = ex.query("timeout"); t) {
    char* end = nullptr;
    long long timeout = std::strtoll(t->c_str(), &end, 10);
    if (t->empty() || *end != '\0' || timeout < 0) return Error::invalid_param("Invalid 'timeout'");
    req.timeout_ms = timeout;
  }
  if (auto p = ex.query("set_presence"); p) {
    if (!sync::valid_set_presence(*p)) return Error::invalid_param("Invalid 'set_presence'");
    req.set_presence = *p;
  }
  return {};
}

// One attempt at answering: builds from the state `base_id` names, and on answering stores the
// new state and replies with its pos. False to keep waiting.
bool answer(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who,
            const sync::ConnectionKey& key, uint64_t request, uint64_t base_id,
            const sync::SlidingRequest& req, bool final_attempt) {
  auto& connections = *ctx.sliding;
  if (!connections.is_current(key, request)) {
    ex->reply_error(unknown_pos("A newer request on this connection replaced this one"));
    return true;
  }
  sync::ConnectionStatePtr base = base_id ? connections.find(key, base_id) : nullptr;
  if (base_id && !base) {
    ex->reply_error(unknown_pos("This pos has expired: start again without one"));
    return true;
  }
  auto txn = ctx.store->begin_read();
  SlidingResult result = build_sliding_sync(ctx, *txn, who, req, base.get());
  txn.reset();
  if (result.empty && !final_attempt && base) return false;
  auto streams = result.next->streams;
  uint64_t id = connections.commit(key, base_id, std::move(result.next), now_ms());
  if (id == 0) {
    ex->reply_error(unknown_pos("This connection has expired: start again without a pos"));
    return true;
  }
  auto& a = result.body.GetAllocator();
  json::set(result.body, "pos", sync::sliding_pos(streams, id), a);
  ex->reply_json(200, result.body);
  return true;
}

// POST /_matrix/client/unstable/org.matrix.simplified_msc3575/sync
void sliding_sync(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto parsed = sync::parse_sliding_request(body.value());
  if (!parsed.ok()) return ex->reply_error(parsed.error());
  sync::SlidingRequest req = std::move(parsed.value());
  if (auto s = apply_query(*ex, req); !s.ok()) return ex->reply_error(s.error());

  sync::ConnectionKey key{who.user_id, who.device_id, req.conn_id};
  uint64_t base_id = 0;
  if (req.pos) {
    // A pos is only ever valid on the connection (user, device, conn_id) it was issued to.
    auto id = sync::sliding_pos_state_id(*req.pos);
    if (!id || !ctx.sliding->find(key, *id)) {
      return ex->reply_error(unknown_pos("Unknown or expired pos: start again without one"));
    }
    base_id = *id;
  }
  streams::set_presence_from_sync(ctx, who.user_id, req.set_presence);
  if (req.to_device.enabled && req.to_device.since && *req.to_device.since > 0) {
    delete_acknowledged_to_device(ctx, who, *req.to_device.since);
  }
  uint64_t request = ctx.sliding->begin_request(key, now_ms());
  // The MSC ignores the timeout without a pos: a fresh connection is answered at once.
  int64_t timeout = req.pos ? std::min(req.timeout_ms, kMaxTimeoutMs) : 0;
  LongPoll::start(ctx, ex, who.user_id, now_ms() + timeout,
                  [&ctx, ex, who, key, request, base_id, req = std::move(req)](bool final_attempt) {
                    return answer(ctx, ex, who, key, request, base_id, req, final_attempt);
                  });
}

}  // namespace

void register_sliding_sync_routes(http::Router& r, ServerContext& ctx) {
  add_authed(r, ctx, "POST", kPath, [&ctx](auto& ex, auto& who) { sliding_sync(ctx, ex, who); });
}

}  // namespace haven::client
