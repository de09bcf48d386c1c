#include "homeserver/policy/anonymity.h"

#include <string>

namespace haven::policy {

bool must_hide_identity(const CarePolicy* policy, storage::ReadTxn& txn, std::string_view viewer,
                        std::string_view member) {
  return policy && viewer != member && !policy->are_contacts(txn, viewer, member);
}

void hide_identity(json::Value& content, json::Alloc& a) {
  if (!content.IsObject()) return;
  content.RemoveMember("avatar_url");
  const std::string marker(kNicknameMarker);
  auto name = content.FindMember("displayname");
  bool nickname = json::get_bool(content, marker.c_str()) && name != content.MemberEnd() &&
                  name->value.IsString();
  if (nickname) return;
  json::set(content, "displayname", kAnonymousName, a);
}

}  // namespace haven::policy
