// The m.room.member rule of the authorisation rules (rooms v10-v12).
#include <algorithm>

#include "crypto/base64.h"
#include "crypto/json_signing.h"
#include "homeserver/rooms/auth_internal.h"
#include "homeserver/rooms/ids.h"
#include "homeserver/rooms/json_util.h"

namespace haven::rooms::detail {

namespace {

bool is_one_of(const std::string& s, std::initializer_list<std::string_view> options) {
  return std::find(options.begin(), options.end(), s) != options.end();
}

// The creator whose join may directly follow the create event: v10 content.creator, else sender.
std::string original_creator(const AuthContext& ctx) {
  if (ctx.version.create_has_creator_field) {
    return std::string(string_member(ctx.create.content(), "creator").value_or(""));
  }
  return ctx.create.sender();
}

Status check_restricted_join(const AuthContext& ctx, const std::string& membership) {
  if (membership == "join" || membership == "invite") return {};
  auto via = string_member(ctx.event.content(), "join_authorised_via_users_server");
  if (!via) return reject("Restricted join without join_authorised_via_users_server");
  if (membership_of(ctx.state, *via) != "join") {
    return reject("The authorising user is not joined to the room");
  }
  if (ctx.levels.user_level(*via) < ctx.levels.invite()) {
    return reject("The authorising user may not invite");
  }
  return {};
}

Status check_join(const AuthContext& ctx, const std::string& target) {
  const Event& ev = ctx.event;
  if (ev.prev_events().size() == 1 && ev.prev_events()[0] == ctx.create.event_id() &&
      target == original_creator(ctx)) {
    return {};
  }
  if (ev.sender() != target) return reject("Cannot make another user join");
  std::string membership = ctx.sender_membership();
  if (membership == "ban") return reject("The user is banned from the room");
  std::string rule = join_rule(ctx.state);
  if (rule == "invite" || (rule == "knock" && ctx.version.knock)) {
    if (membership == "invite" || membership == "join") return {};
    return reject("The room is invite-only and the user is not invited");
  }
  if ((rule == "restricted" && ctx.version.restricted_join) ||
      (rule == "knock_restricted" && ctx.version.knock_restricted)) {
    return check_restricted_join(ctx, membership);
  }
  if (rule == "public") return {};
  return reject("The join rule '" + rule + "' does not allow joining");
}

// Any signature in `signed` made by one of the m.room.third_party_invite event's public keys.
bool signed_by_invite_keys(const rapidjson::Value& signed_obj, const Event& invite) {
  std::vector<std::string> keys;
  if (auto k = string_member(invite.content(), "public_key")) keys.emplace_back(*k);
  if (const rapidjson::Value* list = member(invite.content(), "public_keys");
      list && list->IsArray()) {
    for (auto& entry : list->GetArray()) {
      if (auto k = string_member(entry, "public_key")) keys.emplace_back(*k);
    }
  }
  const rapidjson::Value* sigs = member(signed_obj, "signatures");
  if (!sigs || !sigs->IsObject()) return false;
  for (const std::string& encoded : keys) {
    auto key = crypto::base64_decode(encoded);
    if (!key) continue;
    for (auto& server : sigs->GetObject()) {
      if (!server.value.IsObject()) continue;
      for (auto& sig : server.value.GetObject()) {
        if (crypto::verify_json(signed_obj, view(server.name), view(sig.name), *key)) return true;
      }
    }
  }
  return false;
}

Status check_third_party_invite(const AuthContext& ctx, const std::string& target) {
  if (membership_of(ctx.state, target) == "ban") return reject("The invited user is banned");
  const rapidjson::Value* tpi = member(ctx.event.content(), "third_party_invite");
  const rapidjson::Value* signed_obj = member(*tpi, "signed");
  if (!signed_obj || !signed_obj->IsObject()) return reject("third_party_invite has no signed");
  auto mxid = string_member(*signed_obj, "mxid");
  auto token = string_member(*signed_obj, "token");
  if (!mxid || !token) return reject("third_party_invite.signed lacks mxid or token");
  if (*mxid != target) return reject("third_party_invite.signed.mxid is not the invitee");
  EventPtr invite = ctx.state.get("m.room.third_party_invite", *token);
  if (!invite) return reject("No m.room.third_party_invite for the token");
  if (invite->sender() != ctx.event.sender()) {
    return reject("The sender did not send the third-party invite");
  }
  if (signed_by_invite_keys(*signed_obj, *invite)) return {};
  return reject("third_party_invite.signed is not signed by the invite's keys");
}

Status check_invite(const AuthContext& ctx, const std::string& target) {
  if (member(ctx.event.content(), "third_party_invite")) {
    return check_third_party_invite(ctx, target);
  }
  if (ctx.sender_membership() != "join") return reject("The inviter is not in the room");
  std::string target_membership = membership_of(ctx.state, target);
  if (target_membership == "join") return reject("The invitee is already in the room");
  if (target_membership == "ban") return reject("The invitee is banned");
  if (ctx.sender_level() >= ctx.levels.invite()) return {};
  return reject("The sender's power level is below the invite level");
}

Status check_leave(const AuthContext& ctx, const std::string& target) {
  if (ctx.event.sender() == target) {
    if (is_one_of(ctx.sender_membership(), {"invite", "join", "knock"})) return {};
    return reject("Cannot leave a room one is not in, invited to or knocking on");
  }
  if (ctx.sender_membership() != "join") return reject("The sender is not in the room");
  int64_t sender_level = ctx.sender_level();
  if (membership_of(ctx.state, target) == "ban" && sender_level < ctx.levels.ban()) {
    return reject("The sender's power level is below the ban level needed to unban");
  }
  if (sender_level >= ctx.levels.kick() && ctx.levels.user_level(target) < sender_level) {
    return {};
  }
  return reject("The sender may not kick this user");
}

Status check_ban(const AuthContext& ctx, const std::string& target) {
  if (ctx.sender_membership() != "join") return reject("The sender is not in the room");
  int64_t sender_level = ctx.sender_level();
  if (sender_level >= ctx.levels.ban() && ctx.levels.user_level(target) < sender_level) return {};
  return reject("The sender may not ban this user");
}

Status check_knock(const AuthContext& ctx, const std::string& target) {
  std::string rule = join_rule(ctx.state);
  bool knockable = (rule == "knock" && ctx.version.knock) ||
                   (rule == "knock_restricted" && ctx.version.knock_restricted);
  if (!knockable) return reject("The join rule does not allow knocking");
  if (ctx.event.sender() != target) return reject("Cannot knock for another user");
  if (is_one_of(ctx.sender_membership(), {"ban", "invite", "join"})) {
    return reject("Cannot knock when banned, invited or joined");
  }
  return {};
}

}  // namespace

Status check_membership(const AuthContext& ctx) {
  const Event& ev = ctx.event;
  auto membership = string_member(ev.content(), "membership");
  if (!ev.state_key() || !membership) return reject("Member event without state_key or membership");
  if (const rapidjson::Value* via = member(ev.content(), "join_authorised_via_users_server")) {
    // Its server's signature was required by servers_required_to_sign.
    if (!via->IsString() || !is_valid_user_id(view(*via))) {
      return reject("join_authorised_via_users_server is not a user id");
    }
  }
  const std::string& target = *ev.state_key();
  if (membership == "join") return check_join(ctx, target);
  if (membership == "invite") return check_invite(ctx, target);
  if (membership == "leave") return check_leave(ctx, target);
  if (membership == "ban") return check_ban(ctx, target);
  if (membership == "knock" && ctx.version.knock) return check_knock(ctx, target);
  return reject("Unknown membership '" + std::string(*membership) + "'");
}

}  // namespace haven::rooms::detail
