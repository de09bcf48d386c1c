// The homeserver's questions to application services (blocking HTTP, hs_token auth): does
// this user or alias exist (the service creates it before answering 200), and the ping. For
// the worker pool, never the loop thread.
#pragma once

#include <string>

#include "appservices/http_call.h"
#include "appservices/registry.h"

namespace haven::appservice {

constexpr long kQueryTimeoutSeconds = 10;

// GET /_matrix/app/v1/users/{userId}: true when the service answered 200.
bool query_user(const AppService& service, const std::string& user_id);
// GET /_matrix/app/v1/rooms/{roomAlias}: true when the service answered 200.
bool query_alias(const AppService& service, const std::string& alias);
// POST /_matrix/app/v1/ping {"transaction_id"?}.
HttpAnswer ping(const AppService& service, const std::string& transaction_id_json);

}  // namespace haven::appservice
