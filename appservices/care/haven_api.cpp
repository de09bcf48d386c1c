#include "appservices/care/haven_api.h"

#include "appservices/http_call.h"

namespace haven::care {

namespace {
constexpr long kTimeoutSeconds = 30;
}  // namespace

Error HavenAnswer::error() const {
  if (status == 0) return Error::with(502, "M_UNKNOWN", "The homeserver did not answer");
  std::string errcode = json::get_string(body, "errcode", "M_UNKNOWN");
  std::string message = json::get_string(body, "error", "The homeserver refused the request");
  return Error::with(static_cast<int>(status), errcode, message);
}

std::string encode_segment(std::string_view s) { return appservice::encode_path_segment(s); }

HavenAnswer HavenApi::as_service(const std::string& method, const std::string& path,
                                 const std::string& body,
                                 const std::optional<std::string>& as_user) const {
  std::string url = base_url_ + path;
  if (as_user) {
    url += (path.find('?') == std::string::npos ? "?" : "&");
    url += "user_id=" + encode_segment(*as_user);
  }
  return call(method, url, as_token_, body);
}

HavenAnswer HavenApi::as_user_token(const std::string& token, const std::string& method,
                                    const std::string& path, const std::string& body) const {
  return call(method, base_url_ + path, token, body);
}

Result<std::string> HavenApi::whoami(const std::string& token) const {
  auto a = as_user_token(token, "GET", "/_matrix/client/v3/account/whoami");
  if (!a.ok()) return a.error();
  std::string user_id = json::get_string(a.body, "user_id");
  if (user_id.empty()) return Error::unknown("The homeserver gave no user for this token");
  return user_id;
}

HavenAnswer HavenApi::call(const std::string& method, const std::string& url,
                           const std::string& token, const std::string& body) const {
  HavenAnswer answer;
  answer.body = json::object();
  auto http = appservice::call_service(method, url, token, body.empty() ? "{}" : body,
                                       kTimeoutSeconds);
  if (http.outcome != appservice::HttpAnswer::Outcome::kAnswered) return answer;
  answer.status = http.status;
  json::Document d = json::parse_trusted(http.body);
  if (d.IsObject()) answer.body = std::move(d);
  return answer;
}

}  // namespace haven::care
