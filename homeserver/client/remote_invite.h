// Inviting a user of another server: the invite is built and checked here, countersigned by
// the invitee's server (which shows it to them) through rooms::RemoteMembership, then appended
// to the room and sent on to the room's other servers. Loop thread only.
#pragma once

#include <functional>
#include <string>

#include "homeserver/client/common.h"

namespace haven::client {

// `content`: the invite's content ({"membership": "invite"} and reason, is_direct...).
// `done` gets ok once the invite is in the room, or why not. Needs ctx.remote_membership.
void invite_remote_user(ServerContext& ctx, const std::string& inviter, const std::string& room_id,
                        const std::string& target, json::Document content,
                        std::function<void(Status)> done);

}  // namespace haven::client
