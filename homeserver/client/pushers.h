// Push notifications for persisted events: each local member whose push rules say "notify"
// and who has pushers gets one event_id_only notification per pusher (no content, sender or
// room name leaves the server). Loop thread only.
#pragma once

#include "homeserver/client/common.h"
#include "homeserver/rooms/event.h"

namespace haven::client {

void notify_pushers(ServerContext& ctx, const rooms::Event& event);

}  // namespace haven::client
