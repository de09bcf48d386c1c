#include "federation/server_acl.h"

#include "federation/resolver.h"
#include "homeserver/base/glob.h"
#include "homeserver/rooms/event_store.h"

namespace haven::federation {
namespace {

std::vector<std::string> string_entries(const json::Value& content, const char* name) {
  std::vector<std::string> out;
  auto list = content.FindMember(name);
  if (list == content.MemberEnd() || !list->value.IsArray()) return out;
  for (const auto& entry : list->value.GetArray()) {
    if (entry.IsString()) out.emplace_back(entry.GetString(), entry.GetStringLength());
  }
  return out;
}

bool any_matches(const std::vector<std::string>& patterns, std::string_view host) {
  for (const std::string& p : patterns) {
    if (glob_match(p, host)) return true;
  }
  return false;
}

}  // namespace

std::string host_of_server_name(std::string_view server_name) {
  auto parts = split_server_name(server_name);
  return parts ? parts->host : std::string(server_name);
}

ServerAcl ServerAcl::from_content(const json::Value& content) {
  ServerAcl acl;
  if (!content.IsObject()) return acl;
  auto ip = content.FindMember("allow_ip_literals");
  acl.allow_ip_literals = !(ip != content.MemberEnd() && ip->value.IsFalse());
  acl.allow = string_entries(content, "allow");
  acl.deny = string_entries(content, "deny");
  return acl;
}

bool ServerAcl::allows(std::string_view server_name) const {
  const std::string host = host_of_server_name(server_name);
  if (!allow_ip_literals && is_ip_literal(host)) return false;
  if (any_matches(deny, host)) return false;
  return any_matches(allow, host);
}

Status check_server_acl(storage::ReadTxn& txn, std::string_view room_id,
                        std::string_view server_name) {
  auto acl_event = rooms::current_state_event(txn, room_id, "m.room.server_acl", "");
  if (!acl_event) return {};
  if (ServerAcl::from_content(acl_event->content()).allows(server_name)) return {};
  return Error::forbidden("The server ACL of room " + std::string(room_id) + " denies " +
                          std::string(server_name));
}

bool filter_room_edu(storage::ReadTxn& txn, std::string_view origin, std::string_view edu_type,
                     json::Document& content) {
  if (edu_type == "m.typing") {
    std::string room_id = json::get_string(content, "room_id");
    return room_id.empty() || check_server_acl(txn, room_id, origin).ok();
  }
  if (edu_type != "m.receipt" || !content.IsObject()) return true;
  for (auto room = content.MemberBegin(); room != content.MemberEnd();) {
    std::string_view room_id(room->name.GetString(), room->name.GetStringLength());
    if (check_server_acl(txn, room_id, origin).ok()) {
      ++room;
    } else {
      room = content.EraseMember(room);
    }
  }
  return content.MemberCount() != 0;
}

}  // namespace haven::federation
