// The application services this server knows (from the registration files in the config):
// their tokens and compiled namespaces, and the questions the rest of the server asks about
// them (whose as_token is this, who owns this user ID or alias). Built once at start-up;
// read-only afterwards, so any thread may use it.
#pragma once

#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "conf/config.h"

namespace haven::appservice {

class AppService {
 public:
  AppService(conf::AppServiceRegistration registration, const std::string& server_name);

  const conf::AppServiceRegistration& registration() const { return reg_; }
  const std::string& id() const { return reg_.id; }
  // @sender_localpart:server_name, the service's own user.
  const std::string& sender() const { return sender_; }

  // The service's own user, or a local user in one of its user namespaces.
  bool is_interested_in_user(std::string_view user_id) const;
  bool is_exclusive_user(std::string_view user_id) const;
  bool is_interested_in_alias(std::string_view alias) const;
  bool is_exclusive_alias(std::string_view alias) const;
  bool is_interested_in_room_id(std::string_view room_id) const;

 private:
  struct Namespace {
    std::regex regex;
    bool exclusive = false;
  };
  static std::vector<Namespace> compile(const std::vector<conf::AppServiceNamespace>& list);
  // Whether `id` matches one of `list` (from its start, as other homeservers match), only the
  // exclusive ones when `exclusive_only`.
  static bool matches(const std::vector<Namespace>& list, std::string_view id, bool exclusive_only);
  bool is_local(std::string_view id) const;

  conf::AppServiceRegistration reg_;
  std::string server_name_;
  std::string sender_;
  std::vector<Namespace> users_, aliases_, rooms_;
};

class Registry {
 public:
  Registry(const std::vector<conf::AppServiceRegistration>& registrations,
           const std::string& server_name);

  const std::vector<std::unique_ptr<AppService>>& all() const { return services_; }
  bool empty() const { return services_.empty(); }
  // The service whose as_token this is (compared in constant time), or nullptr.
  const AppService* by_as_token(std::string_view token) const;
  const AppService* by_id(std::string_view id) const;
  // The service holding `user_id` in an exclusive namespace (or as its sender), or nullptr.
  const AppService* exclusive_owner_of_user(std::string_view user_id) const;
  const AppService* exclusive_owner_of_alias(std::string_view alias) const;

 private:
  std::vector<std::unique_ptr<AppService>> services_;
};

}  // namespace haven::appservice
