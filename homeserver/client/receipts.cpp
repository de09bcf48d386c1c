// Client-Server API: read receipts (public and private) and the fully-read marker.
#include "homeserver/base/write.h"
#include "homeserver/client/appservice.h"
#include "homeserver/client/outbound_edus.h"
#include "homeserver/client/routes.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/ids.h"
#include "homeserver/rooms/room_access.h"
#include "homeserver/sync/notifier.h"
#include "homeserver/sync/streams.h"

namespace haven::client {

namespace {

// Where the user's markers should move in one room; "" leaves a marker alone.
struct Markers {
  std::string room_id;
  std::string user_id;
  std::string fully_read, read, read_private;
  std::string thread_id;  // for read / read_private
};

// Which markers actually moved.
struct Moved {
  bool fully_read = false, read = false, read_private = false;
};

// The stream position of `event_id` if it is an event of the room the user may see.
Result<uint64_t> visible_event_pos(storage::ReadTxn& txn, const std::string& user_id,
                                   const std::string& room_id, const rooms::RoomAccess& access,
                                   const std::string& event_id) {
  auto ev = rooms::get_event(txn, event_id);
  if (!ev || ev->event->room_id() != room_id || !rooms::may_see_event(txn, user_id, *ev, access)) {
    return Error::not_found("Event not found in this room");
  }
  return ev->pos;
}

// Moves m.fully_read (room account data) to the event unless it is already at or past it.
Result<bool> move_fully_read(storage::WriteTxn& txn, const Markers& m, uint64_t event_pos) {
  if (auto current = streams::get_account_data(txn, m.user_id, m.room_id, "m.fully_read");
      current) {
    auto content = json::parse_trusted(*current);
    if (auto old = rooms::get_event(txn, json::get_string(content, "event_id")); old) {
      if (old->pos >= event_pos) return false;
    }
  }
  auto d = json::object();
  json::set(d, "event_id", m.fully_read, d.GetAllocator());
  HAVEN_TRY(check(
      streams::put_account_data(txn, m.user_id, m.room_id, "m.fully_read", json::to_string(d))));
  return true;
}

// Checks the user may mark these events, then moves the markers; answers {} once durable and
// wakes whoever may see what moved.
void update_markers(ServerContext& ctx, const http::ExchangePtr& ex, Markers m) {
  std::map<std::string, uint64_t> positions;
  {
    auto txn = ctx.store->begin_read();
    auto membership = rooms::membership(*txn, m.user_id, m.room_id);
    if (!membership || membership->membership != "join") {
      return ex->reply_error(Error::forbidden("You are not joined to this room"));
    }
    auto access = rooms::room_access(*txn, m.user_id, m.room_id);
    if (!access.ok()) return ex->reply_error(access.error());
    for (const auto* id : {&m.fully_read, &m.read, &m.read_private}) {
      if (id->empty()) continue;
      auto pos = visible_event_pos(*txn, m.user_id, m.room_id, *access, *id);
      if (!pos.ok()) return ex->reply_error(pos.error());
      positions[*id] = *pos;
    }
  }
  int64_t ts = now_ms();
  write<Moved>(
      *ctx.store,
      [m, positions, ts](storage::WriteTxn& txn) -> Result<Moved> {
        Moved moved;
        if (!m.fully_read.empty()) {
          auto r = move_fully_read(txn, m, positions.at(m.fully_read));
          if (!r.ok()) return std::move(r).error();
          moved.fully_read = *r;
        }
        for (auto [type, id, flag] :
             {std::tuple{"m.read", &m.read, &moved.read},
              std::tuple{"m.read.private", &m.read_private, &moved.read_private}}) {
          if (id->empty()) continue;
          streams::Receipt receipt{m.room_id,         type, m.user_id, m.thread_id, *id,
                                   positions.at(*id), ts};
          HAVEN_TRY(check(streams::put_receipt(txn, receipt, flag)));
        }
        return moved;
      },
      [&ctx, ex, m, ts](Result<Moved> r) {
        if (!r.ok()) return ex->reply_error(r.error());
        if (r->read) {
          appservice_receipt(ctx, m.room_id, "m.read", m.read, m.user_id, m.thread_id, ts);
          send_receipt_edu(ctx, m.room_id, m.user_id, m.read, m.thread_id, ts);
        }
        if (r->read_private) {
          appservice_receipt(ctx, m.room_id, "m.read.private", m.read_private, m.user_id,
                             m.thread_id, ts);
        }
        if (r->read) {
          ctx.notifier->notify_room(m.room_id);
        } else if (r->fully_read || r->read_private) {
          ctx.notifier->notify_user(m.user_id);
        }
        ex->reply_json(200, "{}");
      });
}

// POST /rooms/{roomId}/receipt/{receiptType}/{eventId}
void post_receipt(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  Markers m{ex->params[0], who.user_id, {}, {}, {}, {}};
  const std::string& type = ex->params[1];
  const std::string& event_id = ex->params[2];
  if (!rooms::is_valid_room_id(m.room_id)) {
    return ex->reply_error(Error::invalid_param("Invalid room id"));
  }
  if (!rooms::is_valid_event_id(event_id) || event_id.size() > rooms::kMaxIdLength) {
    return ex->reply_error(Error::invalid_param("Invalid event id"));
  }
  if (type == "m.read") {
    m.read = event_id;
  } else if (type == "m.read.private") {
    m.read_private = event_id;
  } else if (type == "m.fully_read") {
    m.fully_read = event_id;
  } else {
    return ex->reply_error(
        Error::invalid_param("Receipt type must be m.read, m.read.private or m.fully_read"));
  }
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  if (auto t = body->FindMember("thread_id"); t != body->MemberEnd()) {
    if (!t->value.IsString() || t->value.GetStringLength() == 0) {
      return ex->reply_error(Error::invalid_param("thread_id must be a non-empty string"));
    }
    if (type == "m.fully_read") {
      return ex->reply_error(Error::invalid_param("m.fully_read takes no thread_id"));
    }
    m.thread_id.assign(t->value.GetString(), t->value.GetStringLength());
    if (m.thread_id != "main" &&
        (!rooms::is_valid_event_id(m.thread_id) || m.thread_id.size() > rooms::kMaxIdLength)) {
      return ex->reply_error(
          Error::invalid_param("thread_id must be 'main' or a thread root's event id"));
    }
  }
  update_markers(ctx, ex, std::move(m));
}

// POST /rooms/{roomId}/read_markers
void set_read_markers(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  Markers m{ex->params[0], who.user_id, {}, {}, {}, {}};
  if (!rooms::is_valid_room_id(m.room_id)) {
    return ex->reply_error(Error::invalid_param("Invalid room id"));
  }
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  for (auto [key, target] : {std::pair{"m.fully_read", &m.fully_read}, std::pair{"m.read", &m.read},
                             std::pair{"m.read.private", &m.read_private}}) {
    auto id = json::optional_string(*body, key);
    if (!id.ok()) return ex->reply_error(id.error());
    if (!id->has_value()) continue;
    if (!rooms::is_valid_event_id(**id) || (*id)->size() > rooms::kMaxIdLength) {
      return ex->reply_error(Error::invalid_param(std::string("Invalid event id in ") + key));
    }
    *target = std::move(**id);
  }
  update_markers(ctx, ex, std::move(m));
}

}  // namespace

void register_receipt_routes(http::Router& r, ServerContext& ctx) {
  add_authed(r, ctx, "POST", v3("/rooms/{roomId}/receipt/{receiptType}/{eventId}"),
             [&ctx](auto& ex, auto& who) { post_receipt(ctx, ex, who); });
  add_authed(r, ctx, "POST", v3("/rooms/{roomId}/read_markers"),
             [&ctx](auto& ex, auto& who) { set_read_markers(ctx, ex, who); });
}

}  // namespace haven::client
