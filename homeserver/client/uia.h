// User-interactive authentication sessions (spec: "User-Interactive Authentication API").
// Sessions live in memory for 15 minutes. Loop thread only.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "homeserver/base/json.h"
#include "homeserver/http/exchange.h"
#include "homeserver/server_context.h"

namespace haven::client {

using Flow = std::vector<std::string>;  // stage types, e.g. {"m.login.password"}

class UiaSessions {
 public:
  // Looks at body["auth"]. When a flow is complete, calls `proceed`. Otherwise answers the
  // exchange with 401 and the flows, completed stages and session (or the stage's error).
  // `password_user` is whose password an m.login.password stage must match ("" = none may).
  // `check_stage` validates stages other than m.login.dummy and m.login.password (e.g.
  // m.login.registration_token): an Error fails the stage.
  using StageCheck = std::function<Status(const json::Value& auth)>;
  void run(ServerContext& ctx, const http::ExchangePtr& ex, const json::Value& body,
           const std::vector<Flow>& flows, const std::string& password_user,
           std::function<void()> proceed, StageCheck check_stage = {});

 private:
  struct Session {
    std::vector<std::string> completed;
    int64_t created_ms = 0;
  };
  void challenge(const http::ExchangePtr& ex, const std::string& session_id,
                 const std::vector<Flow>& flows, const Error* error);
  bool flow_complete(const Session& s, const std::vector<Flow>& flows) const;
  void expire(int64_t now);
  std::map<std::string, Session> sessions_;
};

}  // namespace haven::client
