// Server access control lists (m.room.server_acl, spec "Server Access Control Lists"): which
// servers may take part in a room over federation, and the checks of inbound federation
// requests against the room's current ACL. Pure functions; the checks read through the
// caller's read transaction. Any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "homeserver/base/json.h"
#include "homeserver/base/result.h"
#include "storage/store.h"

namespace haven::federation {

// A server name without its port: "evil.com:8448" -> "evil.com", "[::1]:8448" -> "[::1]"
// (IP literals are told apart with resolver.h's is_ip_literal).
std::string host_of_server_name(std::string_view server_name);

// The content of an m.room.server_acl event, read as the spec defines it: allow_ip_literals is
// true unless it is the boolean false; allow and deny are empty unless arrays, and only their
// string entries count.
struct ServerAcl {
  bool allow_ip_literals = true;
  std::vector<std::string> allow;
  std::vector<std::string> deny;

  static ServerAcl from_content(const json::Value& content);
  // The spec's order: IP literals, then deny, then allow, else deny. The port is ignored.
  bool allows(std::string_view server_name) const;
};

// M_FORBIDDEN (403) when room `room_id` has a server ACL that denies `server_name`; ok when
// it has none or it allows the server (or this server does not hold the room).
Status check_server_acl(storage::ReadTxn& txn, std::string_view room_id,
                        std::string_view server_name);

// For an EDU that `origin` sent in a transaction: false when it must be ignored (m.typing in a
// room whose ACL denies `origin`); m.receipt loses the rooms whose ACL denies `origin` and is
// ignored when none is left. Other EDUs are kept as they are.
bool filter_room_edu(storage::ReadTxn& txn, std::string_view origin, std::string_view edu_type,
                     json::Document& content);

}  // namespace haven::federation
