#include "homeserver/client/admin_params.h"

#include <charconv>

#include "homeserver/rooms/ids.h"

namespace haven::client {

Result<int64_t> query_int(const http::Exchange& ex, std::string_view name, int64_t fallback,
                          int64_t min, int64_t max) {
  auto v = ex.query(name);
  if (!v) return fallback;
  int64_t n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size() || n < min || n > max) {
    return Error::invalid_param("Query parameter '" + std::string(name) +
                                "' must be an integer from " + std::to_string(min) + " to " +
                                std::to_string(max));
  }
  return n;
}

Result<std::optional<bool>> query_bool(const http::Exchange& ex, std::string_view name) {
  auto v = ex.query(name);
  if (!v) return std::optional<bool>();
  if (*v == "true") return std::optional<bool>(true);
  if (*v == "false") return std::optional<bool>(false);
  return Error::invalid_param("Query parameter '" + std::string(name) +
                              "' must be 'true' or 'false'");
}

Result<std::string> query_enum(const http::Exchange& ex, std::string_view name,
                               std::string fallback,
                               std::initializer_list<std::string_view> allowed) {
  auto v = ex.query(name);
  if (!v) return fallback;
  for (std::string_view a : allowed) {
    if (*v == a) return *v;
  }
  std::string list;
  for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  return Error::invalid_param("Query parameter '" + std::string(name) + "' must be one of " +
                              list);
}

Result<bool> query_forwards(const http::Exchange& ex) {
  auto dir = query_enum(ex, "dir", "f", {"f", "b"});
  if (!dir.ok()) return std::move(dir).error();
  return *dir == "f";
}

Result<std::string> local_user_id(const ServerContext& ctx, const std::string& user_id,
                                  std::string_view remote_message) {
  if (!rooms::is_valid_user_id(user_id)) return Error::invalid_param("Invalid user id");
  if (rooms::server_name_of(user_id) != ctx.server_name) {
    return Error::invalid_param(std::string(remote_message));
  }
  return user_id;
}

}  // namespace haven::client
