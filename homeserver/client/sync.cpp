// Client-Server API: GET /sync, long-polling on the notifier.
#include "homeserver/client/routes.h"
#include "homeserver/client/sync_builder.h"
#include "homeserver/e2ee/to_device.h"
#include "homeserver/sync/notifier.h"
#include "homeserver/sync/streams.h"

namespace haven::client {

namespace {

constexpr int64_t kMaxTimeoutMs = 5 * 60 * 1000;

// One waiting /sync request: recomputed whenever the notifier wakes it, answered when there
// is something new or the timeout passes.
struct PendingSync : std::enable_shared_from_this<PendingSync> {
  ServerContext& ctx;
  http::ExchangePtr ex;
  Requester who;
  SyncRequest request;
  int64_t deadline_ms = 0;
  uint64_t waiter = 0;
  std::unique_ptr<Loop::Timer> timer;
  bool answered = false;  // a wake-up deferred before the answer went must do nothing

  PendingSync(ServerContext& c, http::ExchangePtr e, Requester w, SyncRequest r, int64_t d)
      : ctx(c), ex(std::move(e)), who(std::move(w)), request(std::move(r)), deadline_ms(d) {}

  void attempt(bool final_attempt) {
    if (answered) return;
    if (ex->closed()) return finish();
    auto txn = ctx.store->begin_read();
    // The usual long-poll, re-issued right after the previous answer: nothing moved, so
    // there is nothing to build until the notifier says otherwise.
    if (!final_attempt && request.since && !request.full_state && now_ms() < deadline_ms &&
        caught_up(*request.since, current_positions(ctx, *txn))) {
      return wait();
    }
    SyncResult result = build_sync(ctx, *txn, who, request);
    txn.reset();
    if (!result.empty || final_attempt || !request.since || now_ms() >= deadline_ms) {
      finish();
      ex->reply_json(200, result.body);
      return;
    }
    wait();
  }

  void wait() {
    auto self = shared_from_this();
    waiter = ctx.notifier->wait(who.user_id, [self] {
      self->waiter = 0;
      self->attempt(false);
    });
    if (!timer) {
      timer = ctx.loop->after(std::max<int64_t>(0, deadline_ms - now_ms()), [self] {
        self->cancel_waiter();
        self->attempt(true);
      });
    }
    ex->on_close = [self] { self->finish(); };
  }

  void cancel_waiter() {
    if (waiter) ctx.notifier->cancel(waiter);
    waiter = 0;
  }

  // Drops the waiter, the timer and the close hook (which holds a reference to us).
  void finish() {
    answered = true;
    cancel_waiter();
    auto keep = shared_from_this();
    timer.reset();
    ex->on_close = nullptr;
  }
};

// The client holds the device's to-device messages up to its token's position: they go. /sync
// itself only reads, so the deletion is a writer job of its own, queued only when there is
// something to delete and not awaited: the messages are not sent again meanwhile (inbox reads
// start after the token), and a failed deletion is retried by the next sync.
void delete_acknowledged_to_device(ServerContext& ctx, const Requester& who, uint64_t since) {
  auto txn = ctx.store->begin_read();
  if (!txn) return;
  // Never beyond what exists: a token from the future must not swallow messages to come.
  uint64_t up_to = std::min(since, e2ee::to_device_pos(*txn));
  if (!e2ee::has_acknowledged_to_device(*txn, who.user_id, who.device_id, up_to)) return;
  txn.reset();
  ctx.store->submit(
      [user_id = who.user_id, device_id = who.device_id, up_to](storage::WriteTxn& w) {
        return e2ee::delete_acknowledged_to_device(w, user_id, device_id, up_to);
      },
      [](storage::Status) {});
}

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
  auto pending =
      std::make_shared<PendingSync>(ctx, ex, who, std::move(request), now_ms() + timeout);
  pending->attempt(false);
}

}  // namespace

void register_sync_routes(http::Router& r, ServerContext& ctx) {
  add_authed(r, ctx, "GET", v3("/sync"), [&ctx](auto& ex, auto& who) { sync(ctx, ex, who); });
}

}  // namespace haven::client
