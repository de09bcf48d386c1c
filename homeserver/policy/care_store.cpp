#include "homeserver/policy/care_store.h"

#include "homeserver/base/json.h"
#include "storage/keys.h"

namespace haven::policy {

using storage::KeyBuilder;
using storage::KeyReader;
using storage::Table;

namespace {

constexpr std::string_view kFeaturesKey = "care:features";

std::string role_key(std::string_view user_id) {
  return KeyBuilder().str("u").tail(user_id).take();
}

std::string role_index_key(Role role, std::string_view user_id) {
  return KeyBuilder().str("r").str(role_name(role)).tail(user_id).take();
}

std::string link_key(std::string_view a, std::string_view b) {
  return KeyBuilder().str(a).tail(b).take();
}

}  // namespace

std::string_view role_name(Role role) {
  return role == Role::kProfessional ? "professional" : "client";
}

std::optional<Role> parse_role(std::string_view name) {
  if (name == "client") return Role::kClient;
  if (name == "professional") return Role::kProfessional;
  return std::nullopt;
}

std::optional<Role> stored_role(storage::ReadTxn& txn, std::string_view user_id) {
  auto value = txn.get(Table::kCareRoles, role_key(user_id));
  if (!value) return std::nullopt;
  return parse_role(*value);
}

storage::Status set_role(storage::WriteTxn& txn, std::string_view user_id, Role role) {
  if (auto old = stored_role(txn, user_id)) {
    if (auto s = txn.del(Table::kCareRoles, role_index_key(*old, user_id)); !s.ok()) return s;
  }
  if (auto s = txn.put(Table::kCareRoles, role_key(user_id), role_name(role)); !s.ok()) return s;
  return txn.put(Table::kCareRoles, role_index_key(role, user_id), "");
}

std::vector<std::string> users_with_role(storage::ReadTxn& txn, Role role) {
  std::vector<std::string> users;
  std::string prefix = KeyBuilder().str("r").str(role_name(role)).take();
  txn.scan(Table::kCareRoles, prefix, "", storage::Direction::kForward,
           [&](std::string_view key, std::string_view) {
             users.emplace_back(key.substr(prefix.size()));
             return true;
           });
  return users;
}

bool is_linked(storage::ReadTxn& txn, std::string_view a, std::string_view b) {
  return txn.get(Table::kCareContacts, link_key(a, b)).has_value();
}

storage::Status link(storage::WriteTxn& txn, std::string_view a, std::string_view b) {
  if (auto s = txn.put(Table::kCareContacts, link_key(a, b), ""); !s.ok()) return s;
  return txn.put(Table::kCareContacts, link_key(b, a), "");
}

storage::Status unlink(storage::WriteTxn& txn, std::string_view a, std::string_view b) {
  if (auto s = txn.del(Table::kCareContacts, link_key(a, b)); !s.ok()) return s;
  return txn.del(Table::kCareContacts, link_key(b, a));
}

std::vector<std::string> links_of(storage::ReadTxn& txn, std::string_view user_id) {
  std::vector<std::string> others;
  std::string prefix = KeyBuilder().str(user_id).take();
  txn.scan(Table::kCareContacts, prefix, "", storage::Direction::kForward,
           [&](std::string_view key, std::string_view) {
             others.emplace_back(key.substr(prefix.size()));
             return true;
           });
  return others;
}

std::optional<std::string> room_owner(storage::ReadTxn& txn, std::string_view room_id) {
  auto value = txn.get(Table::kCareRoomOwners, room_id);
  if (!value) return std::nullopt;
  return std::string(*value);
}

storage::Status set_room_owner(storage::WriteTxn& txn, std::string_view room_id,
                               std::string_view user_id) {
  return txn.put(Table::kCareRoomOwners, room_id, user_id);
}

std::optional<std::string> guest_room(storage::ReadTxn& txn, std::string_view user_id) {
  auto value = txn.get(Table::kCareGuests, user_id);
  if (!value) return std::nullopt;
  return std::string(*value);
}

storage::Status set_guest_room(storage::WriteTxn& txn, std::string_view user_id,
                               std::string_view room_id) {
  return txn.put(Table::kCareGuests, user_id, room_id);
}

storage::Status clear_guest(storage::WriteTxn& txn, std::string_view user_id) {
  return txn.del(Table::kCareGuests, user_id);
}

Features features(storage::ReadTxn& txn, const conf::Care& config) {
  Features f{config.guest_links, config.temporary_rooms};
  auto value = txn.get(Table::kMeta, kFeaturesKey);
  if (!value) return f;
  json::Document doc = json::parse_trusted(*value);
  if (!doc.IsObject()) return f;
  f.guest_links = json::get_bool(doc, "guest_links", f.guest_links);
  f.temporary_rooms = json::get_bool(doc, "temporary_rooms", f.temporary_rooms);
  return f;
}

storage::Status set_features(storage::WriteTxn& txn, const Features& features) {
  auto doc = json::object();
  auto& a = doc.GetAllocator();
  json::set(doc, "guest_links", features.guest_links, a);
  json::set(doc, "temporary_rooms", features.temporary_rooms, a);
  return txn.put(Table::kMeta, kFeaturesKey, json::to_string(doc));
}

}  // namespace haven::policy
