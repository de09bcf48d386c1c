// `haven federation-request`: sends one X-Matrix-signed request to another server as this
// server (its config, its signing key), and prints the HTTP status and the body. For
// operators checking federation, and for the integration tests. Main thread only.
#pragma once

#include <optional>
#include <string>

#include "conf/config.h"

namespace haven {

// Returns the exit code: 0 when the server answered (whatever the status), 1 otherwise.
int federation_request_cli(const conf::Config& config, const std::string& destination,
                           const std::string& method, const std::string& target,
                           const std::optional<std::string>& json_body);

}  // namespace haven
