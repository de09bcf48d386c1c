#include "homeserver/policy/care_rules.h"

#include <algorithm>
#include <memory>
#include <set>
#include <unordered_map>

#include "homeserver/accounts/account_store.h"
#include "homeserver/base/json.h"
#include "homeserver/policy/temporary_rooms.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/ids.h"
#include "homeserver/rooms/room_access.h"
#include "homeserver/sync/streams.h"

namespace haven::policy {

namespace {

bool has_nickname(const rooms::EventPtr& member_event) {
  return member_event &&
         json::get_bool(member_event->content(), std::string(kNicknameMarker).c_str());
}

bool is_present(std::string_view membership) {
  return membership == "join" || membership == "invite";
}

}  // namespace

bool CarePolicy::is_local(std::string_view user_id) const {
  return rooms::server_name_of(user_id) == server_name_;
}

Role CarePolicy::role_of(storage::ReadTxn& txn, std::string_view user_id) const {
  return stored_role(txn, user_id).value_or(Role::kClient);
}

bool CarePolicy::are_contacts(storage::ReadTxn& txn, std::string_view a, std::string_view b) const {
  if (a == b) return true;
  if (is_local(a) && is_local(b) && role_of(txn, a) == Role::kProfessional &&
      role_of(txn, b) == Role::kProfessional) {
    return true;
  }
  return is_linked(txn, a, b);
}

std::vector<std::string> CarePolicy::contacts_of(storage::ReadTxn& txn,
                                                 std::string_view user_id) const {
  std::vector<std::string> contacts = links_of(txn, user_id);
  if (is_local(user_id) && role_of(txn, user_id) == Role::kProfessional) {
    for (std::string& other : users_with_role(txn, Role::kProfessional)) {
      if (other != user_id) contacts.push_back(std::move(other));
    }
  }
  std::sort(contacts.begin(), contacts.end());
  contacts.erase(std::unique(contacts.begin(), contacts.end()), contacts.end());
  return contacts;
}

std::function<bool(std::string_view)> CarePolicy::direct_reach(storage::ReadTxn& txn,
                                                               const std::string& sender) const {
  auto mates = std::make_shared<std::set<std::string>>(rooms::users_sharing_rooms(txn, sender));
  return [this, &txn, sender, mates](std::string_view target) {
    return target == sender || mates->contains(std::string(target)) ||
           are_contacts(txn, sender, target);
  };
}

CarePolicy::ContactSet CarePolicy::contact_set(storage::ReadTxn& txn,
                                               std::string_view user_id) const {
  ContactSet set;
  set.professional = is_local(user_id) && role_of(txn, user_id) == Role::kProfessional;
  for (std::string& other : links_of(txn, user_id)) set.links.insert(std::move(other));
  return set;
}

Status CarePolicy::refresh_nickname_flags(storage::WriteTxn& txn, std::string_view room_id) const {
  std::vector<std::string> present;
  for (auto& [user_id, membership] : rooms::members_of_room(txn, room_id)) {
    if (is_present(membership)) present.push_back(user_id);
  }
  std::unordered_map<std::string, bool> local_professional;
  for (const std::string& user : present) {
    local_professional[user] = is_local(user) && role_of(txn, user) == Role::kProfessional;
  }
  for (const std::string& member : present) {
    if (!is_local(member)) continue;
    ContactSet contacts = contact_set(txn, member);
    bool among_strangers = std::any_of(present.begin(), present.end(), [&](const auto& other) {
      if (other == member) return false;
      if (contacts.professional && local_professional[other]) return false;
      return !contacts.links.contains(other);
    });
    bool required = among_strangers && !has_nickname(rooms::current_state_event(
                                           txn, room_id, "m.room.member", member));
    auto current = streams::get_account_data(txn, member, room_id, kNicknameRequiredType);
    bool was_required = current && json::get_bool(json::parse_trusted(*current), "required");
    if (required == was_required && (current || !required)) continue;
    std::string content = required ? R"({"required":true})" : R"({"required":false})";
    if (auto s = streams::put_account_data(txn, member, room_id, kNicknameRequiredType, content);
        !s.ok()) {
      return Error::unknown("Could not store the nickname flag");
    }
  }
  return {};
}

// A member event whose displayname differs from the user's profile carries a per-room
// nickname; the marker lets every server and viewer tell it from the user's real name.
Status CarePolicy::prepare(storage::WriteTxn& txn, rooms::EventDraft& draft) const {
  if (draft.type != "m.room.member" || draft.state_key != draft.sender) return {};
  if (json::get_string(draft.content, "membership") != "join" || !is_local(draft.sender)) {
    return {};
  }
  auto user = accounts::get_user(txn, draft.sender);
  std::string displayname = json::get_string(draft.content, "displayname");
  bool nickname = !displayname.empty() && (!user || displayname != user->displayname);
  draft.content.RemoveMember(std::string(kNicknameMarker).c_str());
  if (nickname) json::set(draft.content, kNicknameMarker, true, draft.content.GetAllocator());
  return {};
}

// Guests (haven-care's users for one room) reach only that room: they may knock on it, the
// owner may invite them without being their contact, and nobody else may knock anywhere.
Status CarePolicy::check_guest_membership(storage::WriteTxn& txn, const rooms::Event& event,
                                          const std::string& membership) const {
  const std::string& sender = event.sender();
  const std::string& target = *event.state_key();
  auto room = guest_room(txn, target);
  if (membership == "knock" && room != event.room_id()) {
    return Error::forbidden("Only guests with a guest link may ask to join this conversation");
  }
  if (!room) return {};
  if (*room != event.room_id() && (membership == "join" || membership == "invite")) {
    return Error::forbidden("A guest can only take part in the conversation of their guest link");
  }
  if (membership == "invite" && room_owner(txn, event.room_id()) != sender) {
    return Error::forbidden("Only the owner of the conversation can let a guest in");
  }
  return {};
}

// In a temporary conversation only the owner's professional contacts take part (guests are
// handled before); the owner may also let haven-care's own user in, which deletes it when due.
Status CarePolicy::check_temporary_membership(storage::WriteTxn& txn, const rooms::Event& event,
                                              const std::string& membership) const {
  if (membership != "invite" && membership != "join") return {};
  const std::string& target = *event.state_key();
  auto owner = room_owner(txn, event.room_id());
  if (service_users_.contains(target)) {
    if (membership == "invite" && owner != event.sender()) {
      return Error::forbidden("Only the owner of the conversation can let the care service in");
    }
    return {};
  }
  bool professional = is_local(target) && role_of(txn, target) == Role::kProfessional;
  if (!professional) {
    return Error::forbidden(
        "Only professionals and guests can take part in a temporary conversation, and " + target +
        " is not a professional");
  }
  if (owner && !are_contacts(txn, *owner, target)) {
    return Error::forbidden(target + " is not a contact of the conversation's owner");
  }
  return {};
}

Status CarePolicy::check_temporary_create(storage::WriteTxn& txn, const rooms::Event& event) const {
  if (!features(txn, config_).temporary_rooms) {
    return Error::forbidden("Temporary conversations are switched off on this server");
  }
  if (role_of(txn, event.sender()) != Role::kProfessional) {
    return Error::forbidden("Only professionals can start a temporary conversation");
  }
  if (json::get_bool(event.content(), "m.federate", true)) {
    return Error::forbidden("A temporary conversation must not be federated (m.federate: false)");
  }
  return {};
}

Status CarePolicy::check_membership(storage::WriteTxn& txn, const rooms::Event& event) const {
  const std::string& sender = event.sender();
  const std::string& target = *event.state_key();
  std::string membership = json::get_string(event.content(), "membership");
  if (auto s = check_guest_membership(txn, event, membership); !s.ok() || guest_room(txn, target)) {
    return s;
  }
  bool temporary = is_temporary_room(txn, event.room_id());
  if (temporary) {
    HAVEN_TRY(check_temporary_membership(txn, event, membership));
    if (service_users_.contains(target)) return {};
  }
  if (membership == "invite" && !are_contacts(txn, sender, target)) {
    return Error::forbidden("You can only invite your own contacts, and " + target +
                            " is not one of them");
  }
  auto owner = room_owner(txn, event.room_id());
  if (membership == "leave" && sender == target && owner == sender) {
    auto before = rooms::membership(txn, sender, event.room_id());
    if (before && before->membership == "join") {
      return Error::forbidden(
          "The owner of a conversation cannot leave it. Ask the operator to name a new owner "
          "first.");
    }
  }
  if (membership == "join") {
    return check_join_by_contact(txn, sender, event.room_id(),
                                 "You can only join the conversations of your own contacts");
  }
  return {};
}

Status CarePolicy::check_join_by_contact(storage::ReadTxn& txn, const std::string& user_id,
                                         const std::string& room_id,
                                         const std::string& refusal) const {
  auto owner = room_owner(txn, room_id);
  if (!owner || are_contacts(txn, user_id, *owner)) return {};
  auto before = rooms::membership(txn, user_id, room_id);
  bool invited = before && (before->membership == "invite" || before->membership == "join");
  auto rules = rooms::current_state_event(txn, room_id, "m.room.join_rules", "");
  bool is_public = rules && json::get_string(rules->content(), "join_rule") == "public";
  if (!invited && !is_public) return Error::forbidden(refusal);
  return {};
}

Status CarePolicy::check(storage::WriteTxn& txn, const rooms::Event& event) const {
  if (!is_local(event.sender())) return {};
  if (event.type() == "m.room.member" && event.state_key()) return check_membership(txn, event);
  if (event.type() == "m.room.create" && is_temporary_create_content(event.content())) {
    return check_temporary_create(txn, event);
  }
  return {};
}

Status CarePolicy::check_remote(storage::ReadTxn& txn, const rooms::Event& event) const {
  if (event.type() != "m.room.member" || !event.state_key() || is_local(event.sender())) {
    return {};
  }
  const std::string& sender = event.sender();
  const std::string& target = *event.state_key();
  std::string membership = event.membership();
  if (membership == "invite" && is_local(target) && !are_contacts(txn, sender, target)) {
    return Error::forbidden(target + " is not a contact of " + sender);
  }
  if (membership == "join" && sender == target) {
    if (is_temporary_room(txn, event.room_id())) {
      return Error::forbidden("A temporary conversation is not shared with other servers");
    }
    return check_join_by_contact(txn, sender, event.room_id(),
                                 "Only contacts of the conversation's owner may join it");
  }
  return {};
}

Status CarePolicy::appended(storage::WriteTxn& txn, const rooms::Event& event) const {
  if (event.type() == "m.room.create" && is_local(event.sender())) {
    if (!set_room_owner(txn, event.room_id(), event.sender()).ok()) {
      return Error::unknown("Could not record the conversation's owner");
    }
    return {};
  }
  if (event.type() == "m.room.member") return refresh_nickname_flags(txn, event.room_id());
  return {};
}

}  // namespace haven::policy
