// Anonymity between non-contacts (R12): what one member may see of another's m.room.member
// event. Pure functions plus one lookup through a ReadTxn; any thread.
#pragma once

#include <string_view>

#include "homeserver/base/json.h"
#include "homeserver/policy/care_rules.h"

namespace haven::policy {

// Whether `viewer` may see `member` only by per-room nickname: the care rules apply and they
// are not each other's contacts.
bool must_hide_identity(const CarePolicy* policy, storage::ReadTxn& txn, std::string_view viewer,
                        std::string_view member);

// Rewrites m.room.member content in place: the displayname stays only when it is a marked
// per-room nickname, else it becomes "Anonymous"; the avatar goes.
void hide_identity(json::Value& content, json::Alloc& a);

}  // namespace haven::policy
