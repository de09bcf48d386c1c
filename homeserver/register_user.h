// `haven register-user`: registers a user on the running server through the shared-secret
// admin API, as Synapse's register_new_matrix_user does. Main thread only.
#pragma once

#include <string>

#include "conf/config.h"

namespace haven {

// Asks for the password on the terminal when `password` is empty. Returns the exit code.
int register_user_cli(const conf::Config& config, const std::string& localpart,
                      std::string password, bool admin);

}  // namespace haven
