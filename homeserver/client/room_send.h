// Sending local events from client handlers: runs rooms::send_event on the storage writer,
// records the client's transaction id, wakes the room's syncing members once durable.
// Loop thread only.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "homeserver/client/common.h"
#include "homeserver/rooms/event_builder.h"
#include "homeserver/rooms/room_service.h"

namespace haven::client {

struct TxnRef {
  std::string user_id;
  std::string device_id;
  std::string txn_id;
};

rooms::EventDraft make_draft(std::string room_id, std::string sender, std::string type,
                             std::optional<std::string> state_key, json::Document content);
rooms::EventDraft clone_draft(const rooms::EventDraft& draft);

// Work done inside the send's own write transaction, so it commits with the event or not at
// all: `before` may refuse the send (its error is the answer); `after` gets the new event id.
// Either may run more than once (a retried batch), so writes are their only effects.
struct SendHooks {
  std::function<Status(storage::WriteTxn&)> before;
  std::function<Status(storage::WriteTxn&, const std::string& event_id)> after;
};

// Sends `draft`; with `txn`, a repeated transaction id answers with the first event instead.
// `done` gets the event id (or the error) on the loop thread.
void send_event(ServerContext& ctx, rooms::EventDraft draft, std::optional<TxnRef> txn,
                std::function<void(Result<std::string>)> done, SendHooks hooks = {});

// Wakes everyone concerned by a persisted event (members; the target of a membership change).
void notify_sent(ServerContext& ctx, const rooms::Event& event);

// Leaves (or rejects invites to) every room the user is in: for deactivated accounts.
void leave_all_rooms(ServerContext& ctx, const std::string& user_id);

// Answers {"event_id": ...} or the error.
// Applies the rc_message limit to a sender (not to an appservice's unlimited users); answers
// M_LIMIT_EXCEEDED and returns true when it is passed.
bool send_rate_limited(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who);

void reply_event_id(const http::ExchangePtr& ex, const Result<std::string>& r);

}  // namespace haven::client
