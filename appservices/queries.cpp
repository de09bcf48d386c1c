#include "appservices/queries.h"

#include <spdlog/spdlog.h>

namespace haven::appservice {

namespace {

bool query(const AppService& service, const std::string& path) {
  if (service.registration().url.empty()) return false;
  HttpAnswer answer = call_service("GET", service.registration().url + path,
                                   service.registration().hs_token, "", kQueryTimeoutSeconds);
  if (answer.outcome != HttpAnswer::Outcome::kAnswered) {
    spdlog::info("appservice {}: query failed: {}", service.id(), answer.detail);
  }
  return answer.outcome == HttpAnswer::Outcome::kAnswered && answer.status == 200;
}

}  // namespace

bool query_user(const AppService& service, const std::string& user_id) {
  return query(service, "/_matrix/app/v1/users/" + encode_path_segment(user_id));
}

bool query_alias(const AppService& service, const std::string& alias) {
  return query(service, "/_matrix/app/v1/rooms/" + encode_path_segment(alias));
}

HttpAnswer ping(const AppService& service, const std::string& body) {
  return call_service("POST", service.registration().url + "/_matrix/app/v1/ping",
                      service.registration().hs_token, body, kQueryTimeoutSeconds);
}

}  // namespace haven::appservice
