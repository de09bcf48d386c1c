// Client-Server API: sending events and state, redaction, reading single events, state,
// context and paginated messages.
#include <limits>

#include "homeserver/client/delayed_events.h"
#include "homeserver/client/event_format.h"
#include "homeserver/client/relations.h"
#include "homeserver/client/room_send.h"
#include "homeserver/client/routes.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/ids.h"
#include "homeserver/rooms/room_access.h"
#include "homeserver/sync/filter.h"
#include "homeserver/sync/sync_token.h"

namespace haven::client {

namespace {

using storage::Direction;
constexpr size_t kMaxTxnIdBytes = 255;

Status check_type(const std::string& type) {
  if (type.empty() || type.size() > 255) return Error::invalid_param("Invalid event type");
  return {};
}

Result<json::Document> event_content(ServerContext& ctx, const http::Exchange& ex) {
  if (ex.body().size() > 65536) return Error::too_large("Event content is too large");
  return parse_body(ctx, ex);
}

// PUT /rooms/{roomId}/send/{eventType}/{txnId}
void send_message(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  const std::string& room_id = ex->params[0];
  const std::string& type = ex->params[1];
  const std::string& txn_id = ex->params[2];
  if (!rooms::is_valid_room_id(room_id))
    return ex->reply_error(Error::invalid_param("Invalid room id"));
  if (auto s = check_type(type); !s.ok()) return ex->reply_error(s.error());
  if (txn_id.size() > kMaxTxnIdBytes)
    return ex->reply_error(Error::invalid_param("txnId too long"));
  auto content = event_content(ctx, *ex);
  if (!content.ok()) return ex->reply_error(content.error());
  if (auto delay = ex->query(kDelayQueryParam)) {
    auto ms = parse_delay(ctx, *delay);
    if (!ms.ok()) return ex->reply_error(ms.error());
    return schedule_delayed_event(
        ctx, ex, who, {room_id, type, std::nullopt, std::move(content.value()), txn_id}, *ms);
  }
  if (send_rate_limited(ctx, ex, who)) return;
  auto draft = make_draft(room_id, who.user_id, type, std::nullopt, std::move(content.value()));
  send_event(ctx, std::move(draft), TxnRef{who.user_id, who.device_id, txn_id},
             [ex](Result<std::string> r) { reply_event_id(ex, r); });
}

// PUT /rooms/{roomId}/state/{eventType}[/{stateKey}]
void put_state(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  const std::string& room_id = ex->params[0];
  const std::string& type = ex->params[1];
  std::string state_key = ex->params.size() > 2 ? ex->params[2] : "";
  if (!rooms::is_valid_room_id(room_id))
    return ex->reply_error(Error::invalid_param("Invalid room id"));
  if (auto s = check_type(type); !s.ok()) return ex->reply_error(s.error());
  if (state_key.size() > 255) return ex->reply_error(Error::invalid_param("State key too long"));
  auto content = event_content(ctx, *ex);
  if (!content.ok()) return ex->reply_error(content.error());
  if (type == "m.room.member") {
    auto m = json::get_string(*content, "membership");
    if (m.empty()) return ex->reply_error(Error::bad_json("membership is required"));
  }
  if (auto delay = ex->query(kDelayQueryParam)) {
    auto ms = parse_delay(ctx, *delay);
    if (!ms.ok()) return ex->reply_error(ms.error());
    return schedule_delayed_event(
        ctx, ex, who, {room_id, type, state_key, std::move(content.value()), std::nullopt}, *ms);
  }
  auto draft = make_draft(room_id, who.user_id, type, state_key, std::move(content.value()));
  send_event(ctx, std::move(draft), std::nullopt,
             [ex](Result<std::string> r) { reply_event_id(ex, r); });
}

// PUT /rooms/{roomId}/redact/{eventId}/{txnId}
void redact(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  const std::string& room_id = ex->params[0];
  const std::string& event_id = ex->params[1];
  const std::string& txn_id = ex->params[2];
  if (!rooms::is_valid_room_id(room_id) || !rooms::is_valid_event_id(event_id)) {
    return ex->reply_error(Error::invalid_param("Invalid room or event id"));
  }
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto reason = json::optional_string(*body, "reason");
  if (!reason.ok()) return ex->reply_error(reason.error());
  {
    auto txn = ctx.store->begin_read();
    auto target = rooms::get_event(*txn, event_id);
    if (!target || target->event->room_id() != room_id) {
      return ex->reply_error(Error::not_found("Event not found"));
    }
  }
  auto content = json::object();
  json::set(content, "redacts", event_id, content.GetAllocator());
  if (reason->has_value()) json::set(content, "reason", **reason, content.GetAllocator());
  auto draft =
      make_draft(room_id, who.user_id, "m.room.redaction", std::nullopt, std::move(content));
  draft.redacts = event_id;
  send_event(ctx, std::move(draft), TxnRef{who.user_id, who.device_id, "redact:" + txn_id},
             [ex](Result<std::string> r) { reply_event_id(ex, r); });
}

// GET /rooms/{roomId}/state/{eventType}[/{stateKey}]
void get_state_event(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  const std::string& room_id = ex->params[0];
  const std::string& type = ex->params[1];
  std::string state_key = ex->params.size() > 2 ? ex->params[2] : "";
  auto txn = ctx.store->begin_read();
  auto access = rooms::room_access(*txn, who.user_id, room_id);
  if (!access.ok()) return ex->reply_error(access.error());
  auto ids = rooms::state_ids_at_group(*txn, access->state_group);
  auto it = ids.find({type, state_key});
  auto ev = it == ids.end() ? std::nullopt : rooms::get_event(*txn, it->second);
  if (!ev) return ex->reply_error(Error::not_found("Event not found"));
  auto d = json::object();
  if (ex->query("format").value_or("content") == "event") {
    json::Value v = format_event(*txn, *ev, who, d.GetAllocator(), EventFormat::kClient);
    return ex->reply_json(200, v);
  }
  ex->reply_json(200, ev->event->content());
}

// GET /rooms/{roomId}/state
void get_state(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  const std::string& room_id = ex->params[0];
  auto txn = ctx.store->begin_read();
  auto access = rooms::room_access(*txn, who.user_id, room_id);
  if (!access.ok()) return ex->reply_error(access.error());
  rapidjson::Document d(rapidjson::kArrayType);
  for (auto& [key, id] : rooms::state_ids_at_group(*txn, access->state_group)) {
    if (auto ev = rooms::get_event(*txn, id); ev) {
      d.PushBack(format_event(*txn, *ev, who, d.GetAllocator(), EventFormat::kClient),
                 d.GetAllocator());
    }
  }
  ex->reply_json(200, d);
}

// GET /rooms/{roomId}/event/{eventId}
void get_event(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  const std::string& room_id = ex->params[0];
  auto txn = ctx.store->begin_read();
  auto access = rooms::room_access(*txn, who.user_id, room_id);
  if (!access.ok()) return ex->reply_error(access.error());
  auto ev = rooms::get_event(*txn, ex->params[1]);
  if (!ev || ev->event->room_id() != room_id ||
      !rooms::may_see_event(*txn, who.user_id, *ev, *access)) {
    return ex->reply_error(Error::not_found("Event not found"));
  }
  rapidjson::Document d;
  json::Value v = format_event(*txn, *ev, who, d.GetAllocator(), EventFormat::kClient);
  ex->reply_json(200, v);
}

// Collects up to `limit` visible events of the room from `from` in `dir` (positions within
// the user's access), passing each to `add`; returns the position to continue from, or 0.
uint64_t paginate(storage::ReadTxn& txn, const Requester& who, const std::string& room_id,
                  const rooms::RoomAccess& access, uint64_t from, Direction dir, int64_t limit,
                  std::optional<uint64_t> to, const sync::RoomEventFilter* filter,
                  const std::function<void(const rooms::StoredEvent&)>& add) {
  int64_t count = 0;
  uint64_t next = 0;
  rooms::scan_timeline(txn, room_id, from, dir, [&](uint64_t pos, std::string_view id) {
    if (pos > access.until_pos) return dir == Direction::kForward ? false : true;
    if (to && (dir == Direction::kForward ? pos >= *to : pos <= *to)) return false;
    if (count >= limit) {
      next = pos;
      return false;
    }
    auto ev = rooms::get_event(txn, std::string(id));
    if (!ev || !rooms::may_see_event(txn, who.user_id, *ev, access)) return true;
    if (filter && !sync::matches(*filter, ev->event->type(), ev->event->sender())) {
      return true;
    }
    add(*ev);
    ++count;
    return true;
  });
  return next;
}

// GET /rooms/{roomId}/messages
void messages(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  const std::string& room_id = ex->params[0];
  bool forward = ex->query("dir").value_or("b") == "f";
  if (auto dir = ex->query("dir"); dir && *dir != "f" && *dir != "b") {
    return ex->reply_error(Error::invalid_param("dir must be 'f' or 'b'"));
  }
  int64_t limit = 10;
  if (auto l = ex->query("limit"); l) limit = std::clamp<int64_t>(std::atoll(l->c_str()), 0, 1000);
  auto txn = ctx.store->begin_read();
  auto access = rooms::room_access(*txn, who.user_id, room_id);
  if (!access.ok()) return ex->reply_error(access.error());
  uint64_t from = forward ? 0 : std::numeric_limits<uint64_t>::max();
  if (auto f = ex->query("from"); f) {
    auto p = parse_pagination_token(*f);
    if (!p) return ex->reply_error(Error::invalid_param("Invalid 'from' token"));
    from = forward ? *p + (f->at(0) == 's' ? 1 : 0) : *p;
  }
  std::optional<uint64_t> to;
  if (auto t = ex->query("to"); t) {
    to = parse_pagination_token(*t);
    if (!to) return ex->reply_error(Error::invalid_param("Invalid 'to' token"));
  }
  std::optional<sync::RoomEventFilter> filter;
  if (auto f = ex->query("filter"); f) {
    auto parsed = sync::parse_room_event_filter_json(*f);
    if (!parsed.ok()) return ex->reply_error(parsed.error());
    filter = std::move(parsed.value());
  }
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value chunk(rapidjson::kArrayType);
  std::set<std::string> senders;
  uint64_t next = paginate(
      *txn, who, room_id, *access, from, forward ? Direction::kForward : Direction::kBackward,
      limit, to, filter ? &*filter : nullptr, [&](const rooms::StoredEvent& ev) {
        senders.insert(ev.event->sender());
        chunk.PushBack(format_event(*txn, ev, who, a, EventFormat::kClient), a);
      });
  json::set(d, "start", ex->query("from").value_or(topological_token(from)), a);
  if (next) json::set(d, "end", topological_token(next), a);
  json::set(d, "chunk", std::move(chunk), a);
  if (filter && filter->lazy_load_members) {
    json::Value state(rapidjson::kArrayType);
    auto ids = rooms::state_ids_at_group(*txn, access->state_group);
    for (const auto& s : senders) {
      auto it = ids.find({"m.room.member", s});
      if (it == ids.end()) continue;
      if (auto ev = rooms::get_event(*txn, it->second); ev) {
        state.PushBack(format_event(*txn, *ev, who, a, EventFormat::kClient), a);
      }
    }
    json::set(d, "state", std::move(state), a);
  }
  ex->reply_json(200, d);
}

// GET /rooms/{roomId}/context/{eventId}
void context(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  const std::string& room_id = ex->params[0];
  int64_t limit = 10;
  if (auto l = ex->query("limit"); l) limit = std::clamp<int64_t>(std::atoll(l->c_str()), 0, 100);
  auto txn = ctx.store->begin_read();
  auto access = rooms::room_access(*txn, who.user_id, room_id);
  if (!access.ok()) return ex->reply_error(access.error());
  auto ev = rooms::get_event(*txn, ex->params[1]);
  if (!ev || ev->event->room_id() != room_id ||
      !rooms::may_see_event(*txn, who.user_id, *ev, *access)) {
    return ex->reply_error(Error::not_found("Event not found"));
  }
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value before(rapidjson::kArrayType), after(rapidjson::kArrayType);
  int64_t half_before = limit / 2, half_after = limit - limit / 2;
  uint64_t start =
      paginate(*txn, who, room_id, *access, ev->pos - 1, Direction::kBackward, half_before,
               std::nullopt, nullptr, [&](const rooms::StoredEvent& e) {
                 before.PushBack(format_event(*txn, e, who, a, EventFormat::kClient), a);
               });
  uint64_t end = paginate(*txn, who, room_id, *access, ev->pos + 1, Direction::kForward, half_after,
                          std::nullopt, nullptr, [&](const rooms::StoredEvent& e) {
                            after.PushBack(format_event(*txn, e, who, a, EventFormat::kClient), a);
                          });
  json::set(d, "event", format_event(*txn, *ev, who, a, EventFormat::kClient), a);
  json::set(d, "events_before", std::move(before), a);
  json::set(d, "events_after", std::move(after), a);
  json::set(d, "start", topological_token(start ? start : ev->pos - 1), a);
  json::set(d, "end", topological_token(end ? end : ev->pos + 1), a);
  json::Value state(rapidjson::kArrayType);
  for (auto& [key, id] : rooms::state_ids_at_group(*txn, ev->state_group)) {
    if (auto s = rooms::get_event(*txn, id); s) {
      state.PushBack(format_event(*txn, *s, who, a, EventFormat::kClient), a);
    }
  }
  json::set(d, "state", std::move(state), a);
  ex->reply_json(200, d);
}

}  // namespace

void register_event_routes(http::Router& r, ServerContext& ctx) {
  auto authed = [&](const char* method, const std::string& path, AuthedHandler h) {
    add_authed(r, ctx, method, v3(path), std::move(h));
  };
  authed("PUT", "/rooms/{roomId}/send/{eventType}/{txnId}",
         [&ctx](auto& ex, auto& who) { send_message(ctx, ex, who); });
  for (const char* p : {"/rooms/{roomId}/state/{eventType}", "/rooms/{roomId}/state/{eventType}/",
                        "/rooms/{roomId}/state/{eventType}/{stateKey}"}) {
    authed("PUT", p, [&ctx](auto& ex, auto& who) { put_state(ctx, ex, who); });
    authed("GET", p, [&ctx](auto& ex, auto& who) { get_state_event(ctx, ex, who); });
  }
  authed("GET", "/rooms/{roomId}/state", [&ctx](auto& ex, auto& who) { get_state(ctx, ex, who); });
  authed("PUT", "/rooms/{roomId}/redact/{eventId}/{txnId}",
         [&ctx](auto& ex, auto& who) { redact(ctx, ex, who); });
  authed("GET", "/rooms/{roomId}/event/{eventId}",
         [&ctx](auto& ex, auto& who) { get_event(ctx, ex, who); });
  authed("GET", "/rooms/{roomId}/messages",
         [&ctx](auto& ex, auto& who) { messages(ctx, ex, who); });
  authed("GET", "/rooms/{roomId}/context/{eventId}",
         [&ctx](auto& ex, auto& who) { context(ctx, ex, who); });
  register_relation_routes(r, ctx);
}

}  // namespace haven::client
