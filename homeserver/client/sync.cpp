// Client-Server API: GET /sync, long-polling on the notifier.
#include "homeserver/client/long_poll.h"
#include "homeserver/client/routes.h"
#include "homeserver/client/sync_builder.h"
#include "homeserver/client/sync_rooms.h"
#include "homeserver/sync/streams.h"

namespace haven::client {

namespace {

constexpr int64_t kMaxTimeoutMs = 5 * 60 * 1000;

// GET /_matrix/client/v3/sync
void sync(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  SyncRequest request;
  if (auto since = ex->query("since"); since) {
    request.since = SyncToken::parse(*since);
    if (!request.since) return ex->reply_error(Error::invalid_param("Invalid 'since' token"));
  }
  int64_t timeout = 0;
  if (auto t = ex->query("timeout"); t) {
    char* end = nullptr;
    timeout = std::strtoll(t->c_str(), &end, 10);
    if (t->empty() || *end != '\0' || timeout < 0) {
      return ex->reply_error(Error::invalid_param("Invalid 'timeout'"));
    }
    timeout = std::min(timeout, kMaxTimeoutMs);
  }
  request.full_state = ex->query("full_state").value_or("false") == "true";
  if (auto f = ex->query("filter"); f) {
    auto txn = ctx.store->begin_read();
    auto filter = sync::resolve_filter(*txn, who.user_id, *f);
    if (!filter.ok()) return ex->reply_error(filter.error());
    request.filter = std::move(filter.value());
  }
  std::string presence = ex->query("set_presence").value_or("online");
  if (presence != "online" && presence != "offline" && presence != "unavailable") {
    return ex->reply_error(Error::invalid_param("Invalid 'set_presence'"));
  }
  streams::set_presence_from_sync(ctx, who.user_id, presence);
  if (request.since && request.since->to_device > 0) {
    delete_acknowledged_to_device(ctx, who, request.since->to_device);
  }
  LongPoll::start(ctx, ex, who.user_id, now_ms() + timeout,
                  [&ctx, ex, who, request = std::move(request)](bool final_attempt) {
                    auto txn = ctx.store->begin_read();
                    // The usual long-poll, re-issued right after the previous answer: nothing
                    // moved, so there is nothing to build until the notifier says otherwise.
                    if (!final_attempt && request.since && !request.full_state &&
                        caught_up(*request.since, current_positions(ctx, *txn))) {
                      return false;
                    }
                    SyncResult result = build_sync(ctx, *txn, who, request);
                    txn.reset();
                    if (result.empty && !final_attempt && request.since) return false;
                    ex->reply_json(200, result.body);
                    return true;
                  });
}

}  // namespace

void register_sync_routes(http::Router& r, ServerContext& ctx) {
  add_authed(r, ctx, "GET", v3("/sync"), [&ctx](auto& ex, auto& who) { sync(ctx, ex, who); });
}

}  // namespace haven::client
