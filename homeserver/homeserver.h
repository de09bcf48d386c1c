// The `haven serve` process: loads the signing key, opens the store, wires the services and
// routes, runs the event loop until SIGTERM/SIGINT, then shuts down in order.
// Construct and run on the main thread (which becomes the loop thread).
#pragma once

#include <string>

#include "conf/config.h"

namespace haven {

// Returns the process exit code.
int serve(const conf::Config& config);

}  // namespace haven
