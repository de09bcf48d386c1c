// Reading and checking application service registration files (YAML). Part of loading the
// config: called by load_config at start-up on the main thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "conf/config.h"

namespace haven::conf {

// Reads one registration file. On error returns nullopt and sets `error` to one line naming
// the key and the problem ("namespaces.users[0].regex: invalid regular expression ...").
std::optional<AppServiceRegistration> load_appservice_registration(const std::string& path,
                                                                   std::string* error);

// Rules across all registrations: unique id and as_token, no as_token reused as an hs_token.
// Returns "" or one line naming the files and the problem.
std::string check_appservice_registrations(const std::vector<AppServiceRegistration>& all);

}  // namespace haven::conf
