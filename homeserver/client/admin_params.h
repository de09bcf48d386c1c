// Query and path parameters of the Synapse-compatible admin API (admin_users.cpp,
// admin_rooms.cpp): integers, booleans and enumerations from the query string, and user ids
// that must be local. Bad values are 400 M_INVALID_PARAM, as Synapse answers. Loop thread.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "homeserver/base/result.h"
#include "homeserver/http/exchange.h"
#include "homeserver/server_context.h"

namespace haven::client {

// A decimal integer in [min, max]; `fallback` when absent.
Result<int64_t> query_int(const http::Exchange& ex, std::string_view name, int64_t fallback,
                          int64_t min, int64_t max);
// "true" or "false"; nullopt when absent.
Result<std::optional<bool>> query_bool(const http::Exchange& ex, std::string_view name);
// One of `allowed`; `fallback` when absent.
Result<std::string> query_enum(const http::Exchange& ex, std::string_view name,
                               std::string fallback, std::initializer_list<std::string_view> allowed);
// "f" (true) or "b" (false), forwards when absent.
Result<bool> query_forwards(const http::Exchange& ex);

// `user_id` if it is a valid user id of this server; `remote_message` names the refusal for
// other servers' users.
Result<std::string> local_user_id(const ServerContext& ctx, const std::string& user_id,
                                  std::string_view remote_message);

}  // namespace haven::client
