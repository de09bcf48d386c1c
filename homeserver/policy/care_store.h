// The care organisation's records: each local user's role, the contact links the organisation
// provisioned, each conversation's owner and the operator's feature switches. Storage only; the
// rules that use them are in care_rules.h. Reads through any ReadTxn (any thread); writes inside
// a Store job on the writer thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conf/config.h"
#include "storage/store.h"

namespace haven::policy {

enum class Role { kClient, kProfessional };

std::string_view role_name(Role role);
std::optional<Role> parse_role(std::string_view name);

// nullopt when the organisation has not given the user a role yet.
std::optional<Role> stored_role(storage::ReadTxn& txn, std::string_view user_id);
storage::Status set_role(storage::WriteTxn& txn, std::string_view user_id, Role role);
std::vector<std::string> users_with_role(storage::ReadTxn& txn, Role role);

// Links are symmetric: linking a to b also links b to a.
bool is_linked(storage::ReadTxn& txn, std::string_view a, std::string_view b);
storage::Status link(storage::WriteTxn& txn, std::string_view a, std::string_view b);
storage::Status unlink(storage::WriteTxn& txn, std::string_view a, std::string_view b);
std::vector<std::string> links_of(storage::ReadTxn& txn, std::string_view user_id);

std::optional<std::string> room_owner(storage::ReadTxn& txn, std::string_view room_id);
storage::Status set_room_owner(storage::WriteTxn& txn, std::string_view room_id,
                               std::string_view user_id);

// A guest (R15-R18) is a user whose tokens may act in one room only; set by the operator API
// for haven-care's guest users. nullopt for everyone else.
std::optional<std::string> guest_room(storage::ReadTxn& txn, std::string_view user_id);
storage::Status set_guest_room(storage::WriteTxn& txn, std::string_view user_id,
                               std::string_view room_id);
storage::Status clear_guest(storage::WriteTxn& txn, std::string_view user_id);

struct Features {
  bool guest_links = false;
  bool temporary_rooms = false;
};
// The admin API's settings, or the config's until the admin API changed them.
Features features(storage::ReadTxn& txn, const conf::Care& config);
storage::Status set_features(storage::WriteTxn& txn, const Features& features);

}  // namespace haven::policy
