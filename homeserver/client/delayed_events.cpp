// Client-Server API: delayed events (MSC4140, unstable prefix org.matrix.msc4140). Scheduling
// through /send and /state with the delay query parameter (Synapse, matrix-js-sdk) or through
// the MSC's own delayed_event endpoint; listing, looking up and managing one's own.
#include "homeserver/client/delayed_events.h"

#include <charconv>

#include "crypto/random.h"
#include "homeserver/base/write.h"
#include "homeserver/client/delayed_scheduler.h"
#include "homeserver/client/room_send.h"
#include "homeserver/client/routes.h"
#include "homeserver/delayed/delayed_store.h"
#include "homeserver/rooms/ids.h"
#include "storage/keys.h"

namespace haven::client {

namespace {

using delayed::DelayedEvent;
using delayed::Outcome;

const std::string kPrefix = "/_matrix/client/unstable/org.matrix.msc4140";
constexpr size_t kMaxTxnIdBytes = 255;

Error max_delay_exceeded(int64_t max) {
  Error e = Error::with(400, "M_MAX_DELAY_EXCEEDED",
                        "The delay is longer than this server allows (" + std::to_string(max) +
                            " ms)");
  e.extra_json = "\"org.matrix.msc4140.max_delay\":" + std::to_string(max);
  return e;
}

Result<int64_t> check_delay(const ServerContext& ctx, int64_t delay_ms) {
  const int64_t max = ctx.config.delayed_events_max_delay_ms;
  if (max == 0) return Error::forbidden("Delayed events are turned off on this server");
  if (delay_ms <= 0) return Error::invalid_param("The delay must be a positive number of ms");
  if (delay_ms > max) return max_delay_exceeded(max);
  return delay_ms;
}

std::string txn_key(const Requester& who, const std::string& txn_id) {
  return storage::KeyBuilder().str(who.user_id).str(who.device_id).tail("delayed:" + txn_id).take();
}

// The public view of a record: the fields of GET /delayed_events, plus the outcome for one.
json::Value describe(const DelayedEvent& e, bool with_outcome, json::Alloc& a) {
  json::Value v(rapidjson::kObjectType);
  json::set(v, "delay_id", e.delay_id, a);
  json::set(v, "room_id", e.room_id, a);
  json::set(v, "type", e.type, a);
  if (e.state_key) json::set(v, "state_key", *e.state_key, a);
  json::set(v, "delay_ms", e.delay_ms, a);
  json::set(v, "scheduled_at", e.scheduled_at, a);
  // Synapse's names for the same two fields, which matrix-js-sdk reads.
  json::set(v, "delay", e.delay_ms, a);
  json::set(v, "running_since", e.scheduled_at, a);
  json::Document content = json::parse_trusted(e.content_json);
  json::Value copy(content, a);
  json::set(v, "content", std::move(copy), a);
  if (with_outcome && e.outcome != Outcome::kScheduled) {
    json::set(v, "finalised_ts", e.finalised_ts, a);
    if (!e.event_id.empty()) json::set(v, "event_id", e.event_id, a);
    if (!e.error_json.empty()) {
      json::Document err = json::parse_trusted(e.error_json);
      json::Value err_copy(err, a);
      json::set(v, "error", std::move(err_copy), a);
    }
  }
  return v;
}

// The caller's own record, or M_NOT_FOUND (also for someone else's delay_id).
Result<DelayedEvent> own_record(ServerContext& ctx, const std::string& delay_id,
                                const Requester& who) {
  auto txn = ctx.store->begin_read();
  if (!txn) return Error::unknown("Storage is unavailable");
  auto e = delayed::get(*txn, delay_id);
  if (!e || e->user_id != who.user_id) return Error::not_found("No such delayed event");
  return std::move(*e);
}

// PUT /unstable/org.matrix.msc4140/rooms/{roomId}/delayed_event/{eventType}/{txnId}
void put_delayed_event(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  if (ex->params[2].size() > kMaxTxnIdBytes)
    return ex->reply_error(Error::invalid_param("txnId too long"));
  if (ex->body().size() > 65536 + 1024)
    return ex->reply_error(Error::too_large("Event content is too large"));
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  if (!body->HasMember("delay_ms")) return ex->reply_error(Error::missing_param("delay_ms is required"));
  auto delay = json::optional_int(*body, "delay_ms");
  if (!delay.ok()) return ex->reply_error(delay.error());
  auto state_key = json::optional_string(*body, "state_key");
  if (!state_key.ok()) return ex->reply_error(state_key.error());
  auto content = json::required_object(*body, "content");
  if (!content.ok()) return ex->reply_error(content.error());
  DelayedRequest request{ex->params[0], ex->params[1], *state_key, json::object(), ex->params[2]};
  request.content.CopyFrom(**content, request.content.GetAllocator());
  schedule_delayed_event(ctx, ex, who, std::move(request), **delay);
}

// GET /unstable/org.matrix.msc4140/delayed_events
void list_delayed_events(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto txn = ctx.store->begin_read();
  if (!txn) return ex->reply_error(Error::unknown("Storage is unavailable"));
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value list(rapidjson::kArrayType);
  for (const auto& e : delayed::scheduled_of_user(*txn, who.user_id)) {
    list.PushBack(describe(e, false, a), a);
  }
  json::set(d, "delayed_events", std::move(list), a);
  ex->reply_json(200, d);
}

// GET /unstable/org.matrix.msc4140/delayed_events/{delay_id}
void get_delayed_event(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto e = own_record(ctx, ex->params[0], who);
  if (!e.ok()) return ex->reply_error(e.error());
  auto d = json::object();
  json::Value v = describe(*e, true, d.GetAllocator());
  ex->reply_json(200, v);
}

void cancel(ServerContext& ctx, const http::ExchangePtr& ex, const std::string& delay_id) {
  write<bool>(
      *ctx.store,
      [delay_id](storage::WriteTxn& w) -> Result<bool> {
        auto e = delayed::get(w, delay_id);
        if (!e) return Error::not_found("No such delayed event");
        if (e->outcome == Outcome::kSent) {
          return Error::with(409, "M_UNKNOWN", "The delayed event was already sent");
        }
        if (e->outcome != Outcome::kScheduled) return true;
        HAVEN_TRY(delayed::finalise(w, *e, Outcome::kCancelled, now_ms()));
        return true;
      },
      [&ctx, ex](Result<bool> r) {
        ctx.delayed_events->rearm();
        reply_empty(ex)(std::move(r));
      });
}

void restart(ServerContext& ctx, const http::ExchangePtr& ex, const std::string& delay_id) {
  write<bool>(
      *ctx.store,
      [delay_id](storage::WriteTxn& w) -> Result<bool> {
        auto e = delayed::get(w, delay_id);
        if (!e) return Error::not_found("No such delayed event");
        if (e->outcome != Outcome::kScheduled) {
          return Error::with(409, "M_UNKNOWN", "The delayed event was already sent or cancelled");
        }
        HAVEN_TRY(delayed::restart(w, *e, now_ms()));
        return true;
      },
      [&ctx, ex](Result<bool> r) {
        ctx.delayed_events->rearm();
        reply_empty(ex)(std::move(r));
      });
}

void send_now(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who,
              const DelayedEvent& e) {
  if (e.outcome == Outcome::kSent) return ex->reply_json(200, "{}");
  if (e.outcome != Outcome::kScheduled) {
    return ex->reply_error(Error::with(409, "M_UNKNOWN", "The delayed event was cancelled"));
  }
  if (send_rate_limited(ctx, ex, who)) return;
  ctx.delayed_events->send(e.delay_id, true, [&ctx, ex](Result<std::string> r) {
    ctx.delayed_events->rearm();
    if (!r.ok()) return ex->reply_error(r.error());
    ex->reply_json(200, "{}");
  });
}

// The management actions, whichever way the action was named.
void manage(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who,
            const std::string& delay_id, const std::string& action) {
  if (action != "cancel" && action != "restart" && action != "send") {
    return ex->reply_error(
        Error::invalid_param("action must be one of cancel, restart and send"));
  }
  auto e = own_record(ctx, delay_id, who);
  if (!e.ok()) return ex->reply_error(e.error());
  if (action == "cancel") return cancel(ctx, ex, delay_id);
  if (action == "restart") return restart(ctx, ex, delay_id);
  send_now(ctx, ex, who, *e);
}

// POST /unstable/org.matrix.msc4140/delayed_events/{delay_id} {"action": ...} (matrix-js-sdk)
void update_delayed_event(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto action = json::required_string(*body, "action");
  if (!action.ok()) return ex->reply_error(action.error());
  manage(ctx, ex, who, ex->params[0], *action);
}

Result<std::string> store_delayed(storage::WriteTxn& w, const DelayedEvent& e,
                                  const std::optional<std::string>& txn_key_bytes, int max) {
  if (txn_key_bytes) {
    if (auto existing = w.get(storage::Table::kTxnIds, *txn_key_bytes)) {
      return std::string(*existing);
    }
  }
  if (delayed::scheduled_of_user(w, e.user_id).size() >= static_cast<size_t>(max)) {
    Error limit = Error::limit_exceeded(1000);
    limit.message = "The maximum number of delayed events has been reached";
    return limit;
  }
  HAVEN_TRY(delayed::schedule(w, e));
  if (txn_key_bytes) HAVEN_TRY(check(w.put(storage::Table::kTxnIds, *txn_key_bytes, e.delay_id)));
  return e.delay_id;
}

}  // namespace

Result<int64_t> parse_delay(const ServerContext& ctx, std::string_view text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ptr != end || text.empty()) {
    return Error::invalid_param("The delay must be an integer number of milliseconds");
  }
  if (ec == std::errc::result_out_of_range) {
    if (text[0] == '-') return Error::invalid_param("The delay must be positive");
    return max_delay_exceeded(ctx.config.delayed_events_max_delay_ms);
  }
  return check_delay(ctx, value);
}

void schedule_delayed_event(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who,
                            DelayedRequest request, int64_t delay_ms) {
  auto delay = check_delay(ctx, delay_ms);
  if (!delay.ok()) return ex->reply_error(delay.error());
  if (!rooms::is_valid_room_id(request.room_id))
    return ex->reply_error(Error::invalid_param("Invalid room id"));
  if (request.type.empty() || request.type.size() > 255)
    return ex->reply_error(Error::invalid_param("Invalid event type"));
  if (request.state_key && request.state_key->size() > 255)
    return ex->reply_error(Error::invalid_param("State key too long"));
  if (send_rate_limited(ctx, ex, who)) return;
  DelayedEvent e;
  e.delay_id = "syd_" + crypto::random_token(20);
  e.user_id = who.user_id;
  e.device_id = who.device_id;
  e.room_id = std::move(request.room_id);
  e.type = std::move(request.type);
  e.state_key = std::move(request.state_key);
  e.content_json = json::to_string(request.content);
  e.delay_ms = *delay;
  e.scheduled_at = now_ms();
  std::optional<std::string> key;
  if (request.txn_id) key = txn_key(who, *request.txn_id);
  const int max = ctx.config.delayed_events_max_per_user;
  write<std::string>(
      *ctx.store,
      [e = std::move(e), key, max](storage::WriteTxn& w) { return store_delayed(w, e, key, max); },
      [&ctx, ex](Result<std::string> r) {
        if (!r.ok()) return ex->reply_error(r.error());
        ctx.delayed_events->rearm();
        auto d = json::object();
        json::set(d, "delay_id", *r, d.GetAllocator());
        ex->reply_json(200, d);
      });
}

void register_delayed_event_routes(http::Router& r, ServerContext& ctx) {
  auto authed = [&](const char* method, const std::string& path, AuthedHandler h) {
    add_authed(r, ctx, method, kPrefix + path, std::move(h));
  };
  authed("PUT", "/rooms/{roomId}/delayed_event/{eventType}/{txnId}",
         [&ctx](auto& ex, auto& who) { put_delayed_event(ctx, ex, who); });
  authed("GET", "/delayed_events",
         [&ctx](auto& ex, auto& who) { list_delayed_events(ctx, ex, who); });
  authed("GET", "/delayed_events/{delayId}",
         [&ctx](auto& ex, auto& who) { get_delayed_event(ctx, ex, who); });
  authed("POST", "/delayed_events/{delayId}",
         [&ctx](auto& ex, auto& who) { update_delayed_event(ctx, ex, who); });
  authed("POST", "/delayed_events/{delayId}/{action}", [&ctx](auto& ex, auto& who) {
    manage(ctx, ex, who, ex->params[0], ex->params[1]);
  });
}

}  // namespace haven::client
