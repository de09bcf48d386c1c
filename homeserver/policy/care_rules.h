// The care organisation's rules for what local users may do (R2, R7, R9-R12): who is whose
// contact, invites only to contacts, the owner who cannot leave, per-room nicknames between
// non-contacts. Enforced inside the room core for every event a local user sends, so no API can
// get around them. Thread-safe (no mutable state); the LocalEventPolicy calls run on the
// writer thread, the queries on any thread.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "conf/config.h"
#include "homeserver/policy/care_store.h"
#include "homeserver/rooms/local_event_policy.h"

namespace haven::policy {

// The room account data event that tells a member to choose a nickname before talking to
// people who are not their contacts: content {"required": bool}.
inline constexpr std::string_view kNicknameRequiredType = "org.haven.nickname_required";
// Marks an m.room.member event's displayname as a per-room nickname (set by the server).
inline constexpr std::string_view kNicknameMarker = "org.haven.nickname";
inline constexpr std::string_view kAnonymousName = "Anonymous";

class CarePolicy : public rooms::LocalEventPolicy {
 public:
  // `service_users`: the senders of operator application services (haven-care), which the
  // owner of a temporary conversation lets in so that they can delete it when due.
  CarePolicy(conf::Care config, std::string server_name,
             std::vector<std::string> service_users = {})
      : config_(std::move(config)),
        server_name_(std::move(server_name)),
        service_users_(service_users.begin(), service_users.end()) {}

  const conf::Care& config() const { return config_; }
  bool is_local(std::string_view user_id) const;
  // A local user's role; users the organisation has not given one count as clients.
  Role role_of(storage::ReadTxn& txn, std::string_view user_id) const;
  // Professionals are each other's contacts; anyone else only through a provisioned link.
  bool are_contacts(storage::ReadTxn& txn, std::string_view a, std::string_view b) const;
  // Everyone who is `user_id`'s contact, sorted.
  std::vector<std::string> contacts_of(storage::ReadTxn& txn, std::string_view user_id) const;

  // Whom `sender` may reach with to-device messages: themself, their contacts, and everyone
  // they share a room with (the keys of encrypted rooms travel this way). The predicate
  // reads through `txn`, which must outlive it.
  std::function<bool(std::string_view)> direct_reach(storage::ReadTxn& txn,
                                                     const std::string& sender) const;

  // Sets or clears the nickname_required flag of every local member of the room, as its
  // membership and the contacts between its members now stand.
  Status refresh_nickname_flags(storage::WriteTxn& txn, std::string_view room_id) const;

  Status prepare(storage::WriteTxn& txn, rooms::EventDraft& draft) const override;
  Status check(storage::WriteTxn& txn, const rooms::Event& event) const override;
  Status appended(storage::WriteTxn& txn, const rooms::Event& event) const override;
  // Users of other servers are contacts only through provisioned links: they invite local
  // users who are their contacts, and join this server's conversations when invited, when
  // the conversation is public or when they are the owner's contact.
  Status check_remote(storage::ReadTxn& txn, const rooms::Event& event) const override;

 private:
  // A member's contacts among a given set of users, without a lookup per pair.
  struct ContactSet {
    bool professional = false;
    std::unordered_set<std::string> links;
  };
  ContactSet contact_set(storage::ReadTxn& txn, std::string_view user_id) const;
  Status check_membership(storage::WriteTxn& txn, const rooms::Event& event) const;
  // A join by someone who is not the owner's contact needs an invite or a public room.
  Status check_join_by_contact(storage::ReadTxn& txn, const std::string& user_id,
                               const std::string& room_id, const std::string& refusal) const;
  Status check_guest_membership(storage::WriteTxn& txn, const rooms::Event& event,
                                const std::string& membership) const;
  // R20: who may take part in a temporary conversation.
  Status check_temporary_membership(storage::WriteTxn& txn, const rooms::Event& event,
                                    const std::string& membership) const;
  // R19, R20: only professionals create temporary conversations, while the operator allows it.
  Status check_temporary_create(storage::WriteTxn& txn, const rooms::Event& event) const;

  conf::Care config_;
  std::string server_name_;
  std::unordered_set<std::string> service_users_;
};

}  // namespace haven::policy
