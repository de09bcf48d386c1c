// The EDUs other servers send in transactions whose effect lands in this server's own streams:
// m.typing, m.receipt, m.presence and m.direct_to_device. Each checks that the users it names
// belong to the sending server (and, for rooms, are joined), stores or records what it says,
// and wakes the local /syncs concerned. main registers them. Loop thread only.
#pragma once

#include "federation/edu_handlers.h"
#include "homeserver/server_context.h"

namespace haven::client {

void register_federation_edus(federation::EduHandlers& edus, ServerContext& ctx);

}  // namespace haven::client
