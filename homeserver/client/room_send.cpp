#include "homeserver/client/room_send.h"

#include "appservices/appservices.h"
#include "homeserver/base/rate_limiter.h"
#include "homeserver/base/write.h"
#include "homeserver/client/delayed_scheduler.h"
#include "homeserver/client/pushers.h"
#include "homeserver/email/notifier.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/sync/notifier.h"
#include "storage/keys.h"

namespace haven::client {

using storage::KeyBuilder;
using storage::Table;

rooms::EventDraft make_draft(std::string room_id, std::string sender, std::string type,
                             std::optional<std::string> state_key, json::Document content) {
  rooms::EventDraft d;
  d.room_id = std::move(room_id);
  d.sender = std::move(sender);
  d.type = std::move(type);
  d.state_key = std::move(state_key);
  d.content = std::move(content);
  d.origin_server_ts = now_ms();
  return d;
}

rooms::EventDraft clone_draft(const rooms::EventDraft& draft) {
  rooms::EventDraft d;
  d.room_id = draft.room_id;
  d.sender = draft.sender;
  d.type = draft.type;
  d.state_key = draft.state_key;
  d.content.CopyFrom(draft.content, d.content.GetAllocator());
  d.redacts = draft.redacts;
  d.origin_server_ts = draft.origin_server_ts;
  return d;
}

namespace {
std::string txn_key(const TxnRef& t) {
  return KeyBuilder().str(t.user_id).str(t.device_id).tail(t.txn_id).take();
}
}  // namespace

void notify_sent(ServerContext& ctx, const rooms::Event& event) {
  std::string target;
  if (event.type() == "m.room.member" && event.state_key()) target = *event.state_key();
  ctx.notifier->notify_room(event.room_id(), target);
  if (event.state_key() && ctx.delayed_events) ctx.delayed_events->state_changed(event);
  notify_pushers(ctx, event);
  if (ctx.appservices) ctx.appservices->events_appended();
  if (ctx.email) ctx.email->on_event(event);
  if (ctx.outbound) ctx.outbound->wake();  // the event was queued for other servers with it
}

void send_event(ServerContext& ctx, rooms::EventDraft draft, std::optional<TxnRef> txn,
                std::function<void(Result<std::string>)> done, SendHooks hooks) {
  auto shared = std::make_shared<rooms::EventDraft>(std::move(draft));
  auto sent_event = std::make_shared<rooms::EventPtr>();
  rooms::LocalServer server = local_server(ctx);
  write<std::string>(
      *ctx.store,
      [shared, txn, server, sent_event,
       hooks = std::move(hooks)](storage::WriteTxn& w) -> Result<std::string> {
        if (txn) {
          if (auto existing = w.get(Table::kTxnIds, txn_key(*txn)); existing) {
            return std::string(*existing);
          }
        }
        if (hooks.before) HAVEN_TRY(hooks.before(w));
        auto sent = rooms::send_event(w, server, clone_draft(*shared));
        if (!sent.ok()) return std::move(sent).error();
        const std::string& id = sent->event->event_id();
        if (hooks.after) HAVEN_TRY(hooks.after(w, id));
        if (txn) {
          HAVEN_TRY(check(w.put(Table::kTxnIds, txn_key(*txn), id)));
          HAVEN_TRY(check(w.put(Table::kEventTxnIds, id,
                                KeyBuilder().str(txn->device_id).tail(txn->txn_id).build())));
        }
        *sent_event = sent->event;
        return id;
      },
      [&ctx, sent_event, done = std::move(done)](Result<std::string> r) {
        bool sent = r.ok() && *sent_event;
        done(std::move(r));
        // After the sender's answer: waking every syncing member must not delay it.
        if (sent) notify_sent(ctx, **sent_event);
      });
}

void leave_all_rooms(ServerContext& ctx, const std::string& user_id) {
  std::vector<std::string> rooms_in;
  {
    auto txn = ctx.store->begin_read();
    for (auto& [room_id, m] : rooms::rooms_of_user(*txn, user_id)) {
      if (m.membership == "join" || m.membership == "invite" || m.membership == "knock") {
        rooms_in.push_back(room_id);
      }
    }
  }
  for (const auto& room_id : rooms_in) {
    auto content = json::object();
    json::set(content, "membership", "leave", content.GetAllocator());
    send_event(ctx, make_draft(room_id, user_id, "m.room.member", user_id, std::move(content)),
               std::nullopt, [](Result<std::string>) {});
  }
}

bool send_rate_limited(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  if (!who.rate_limited) return false;
  int64_t retry = 0;
  if (ctx.rate_limiter->allow("message", who.user_id, ctx.config.rc_message, now_ms(), &retry)) {
    return false;
  }
  ex->reply_error(Error::limit_exceeded(retry));
  return true;
}

void reply_event_id(const http::ExchangePtr& ex, const Result<std::string>& r) {
  if (!r.ok()) return ex->reply_error(r.error());
  ex->reply_json(
      200, "{\"event_id\":" +
               json::to_string(rapidjson::Value(rapidjson::StringRef(r->data(), r->size()))) + "}");
}

}  // namespace haven::client
