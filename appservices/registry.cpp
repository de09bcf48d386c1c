#include "appservices/registry.h"

#include "crypto/hash.h"

namespace haven::appservice {

AppService::AppService(conf::AppServiceRegistration registration, const std::string& server_name)
    : reg_(std::move(registration)),
      server_name_(server_name),
      sender_("@" + reg_.sender_localpart + ":" + server_name),
      users_(compile(reg_.users)),
      aliases_(compile(reg_.aliases)),
      rooms_(compile(reg_.rooms)) {}

std::vector<AppService::Namespace> AppService::compile(
    const std::vector<conf::AppServiceNamespace>& list) {
  std::vector<Namespace> out;
  // The config loader has compiled each regex once already, so this cannot throw.
  for (const auto& ns : list) out.push_back({std::regex(ns.regex, std::regex::ECMAScript), ns.exclusive});
  return out;
}

bool AppService::matches(const std::vector<Namespace>& list, std::string_view id,
                         bool exclusive_only) {
  for (const Namespace& ns : list) {
    if (exclusive_only && !ns.exclusive) continue;
    if (std::regex_search(id.begin(), id.end(), ns.regex, std::regex_constants::match_continuous)) {
      return true;
    }
  }
  return false;
}

bool AppService::is_local(std::string_view id) const {
  auto colon = id.find(':');
  return colon != std::string_view::npos && id.substr(colon + 1) == server_name_;
}

bool AppService::is_interested_in_user(std::string_view user_id) const {
  if (user_id == sender_) return true;
  return is_local(user_id) && matches(users_, user_id, false);
}

bool AppService::is_exclusive_user(std::string_view user_id) const {
  if (user_id == sender_) return true;
  return is_local(user_id) && matches(users_, user_id, true);
}

bool AppService::is_interested_in_alias(std::string_view alias) const {
  return matches(aliases_, alias, false);
}

bool AppService::is_exclusive_alias(std::string_view alias) const {
  return matches(aliases_, alias, true);
}

bool AppService::is_interested_in_room_id(std::string_view room_id) const {
  return matches(rooms_, room_id, false);
}

Registry::Registry(const std::vector<conf::AppServiceRegistration>& registrations,
                   const std::string& server_name) {
  for (const auto& r : registrations) services_.push_back(std::make_unique<AppService>(r, server_name));
}

const AppService* Registry::by_as_token(std::string_view token) const {
  const AppService* found = nullptr;
  for (const auto& s : services_) {
    if (crypto::constant_time_equal(token, s->registration().as_token)) found = s.get();
  }
  return found;
}

const AppService* Registry::by_id(std::string_view id) const {
  for (const auto& s : services_) {
    if (s->id() == id) return s.get();
  }
  return nullptr;
}

const AppService* Registry::exclusive_owner_of_user(std::string_view user_id) const {
  for (const auto& s : services_) {
    if (s->is_exclusive_user(user_id)) return s.get();
  }
  return nullptr;
}

const AppService* Registry::exclusive_owner_of_alias(std::string_view alias) const {
  for (const auto& s : services_) {
    if (s->is_exclusive_alias(alias)) return s.get();
  }
  return nullptr;
}

}  // namespace haven::appservice
