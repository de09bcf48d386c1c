#include "homeserver/client/uia.h"

#include <algorithm>

#include "crypto/password.h"
#include "crypto/random.h"
#include "homeserver/accounts/account_store.h"

namespace haven::client {

namespace {
constexpr int64_t kSessionLifetimeMs = 15 * 60 * 1000;

// The user an m.login.password stage names, from identifier.user or the legacy "user".
std::string stage_user(const json::Value& auth, const std::string& server_name) {
  std::string user;
  auto id = auth.FindMember("identifier");
  if (id != auth.MemberEnd() && id->value.IsObject()) user = json::get_string(id->value, "user");
  if (user.empty()) user = json::get_string(auth, "user");
  if (!user.empty() && user[0] != '@') user = "@" + user + ":" + server_name;
  return user;
}
}  // namespace

void UiaSessions::expire(int64_t now) {
  std::erase_if(sessions_,
                [now](const auto& kv) { return now - kv.second.created_ms > kSessionLifetimeMs; });
}

bool UiaSessions::flow_complete(const Session& s, const std::vector<Flow>& flows) const {
  return std::any_of(flows.begin(), flows.end(), [&](const Flow& f) {
    return std::all_of(f.begin(), f.end(), [&](const std::string& stage) {
      return std::find(s.completed.begin(), s.completed.end(), stage) != s.completed.end();
    });
  });
}

void UiaSessions::challenge(const http::ExchangePtr& ex, const std::string& session_id,
                            const std::vector<Flow>& flows, const Error* error) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value flow_list(rapidjson::kArrayType);
  for (const Flow& f : flows) {
    json::Value stages(rapidjson::kArrayType);
    for (auto& s : f) stages.PushBack(json::str(s, a), a);
    json::Value flow(rapidjson::kObjectType);
    json::set(flow, "stages", std::move(stages), a);
    flow_list.PushBack(std::move(flow), a);
  }
  json::set(d, "flows", std::move(flow_list), a);
  json::set(d, "params", json::Value(rapidjson::kObjectType), a);
  json::set(d, "session", session_id, a);
  json::Value completed(rapidjson::kArrayType);
  for (auto& s : sessions_[session_id].completed) completed.PushBack(json::str(s, a), a);
  json::set(d, "completed", std::move(completed), a);
  if (error) {
    json::set(d, "errcode", error->errcode, a);
    json::set(d, "error", error->message, a);
  }
  ex->reply_json(401, d);
}

void UiaSessions::run(ServerContext& ctx, const http::ExchangePtr& ex, const json::Value& body,
                      const std::vector<Flow>& flows, const std::string& password_user,
                      std::function<void()> proceed, StageCheck check_stage) {
  int64_t now = now_ms();
  expire(now);
  auto auth_it = body.FindMember("auth");
  if (auth_it == body.MemberEnd() || !auth_it->value.IsObject()) {
    std::string id = crypto::random_token(24);
    sessions_[id].created_ms = now;
    challenge(ex, id, flows, nullptr);
    return;
  }
  const json::Value& auth = auth_it->value;
  auto session = json::optional_string(auth, "session");
  auto stage_type = json::required_string(auth, "type");
  if (!session.ok()) return ex->reply_error(session.error());
  if (!stage_type.ok()) return ex->reply_error(stage_type.error());
  std::string id = session->value_or("");
  if (id.empty() || !sessions_.count(id)) {
    // Clients may answer a password stage without a session; start one for them.
    id = crypto::random_token(24);
    sessions_[id].created_ms = now;
  }
  std::string type = json::get_string(auth, "type");
  bool offered = std::any_of(flows.begin(), flows.end(), [&](const Flow& f) {
    return std::find(f.begin(), f.end(), type) != f.end();
  });
  auto complete_stage = [this, &ctx, ex, flows, id, proceed](const std::string& stage) {
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return;
    it->second.completed.push_back(stage);
    if (flow_complete(it->second, flows)) {
      sessions_.erase(it);
      proceed();
    } else {
      challenge(ex, id, flows, nullptr);
    }
  };
  if (!offered) {
    Error e = Error::with(400, "M_UNRECOGNIZED", "Unsupported authentication type");
    challenge(ex, id, flows, &e);
    return;
  }
  if (type == "m.login.dummy") {
    complete_stage(type);
    return;
  }
  if (type == "m.login.password") {
    std::string user = stage_user(auth, ctx.server_name);
    std::string password = json::get_string(auth, "password");
    if (password_user.empty() || user != password_user) {
      Error e = Error::forbidden("Invalid username or password");
      challenge(ex, id, flows, &e);
      return;
    }
    auto txn = ctx.store->begin_read();
    auto u = accounts::get_user(*txn, user);
    txn.reset();
    std::string hash = u ? u->password_hash : std::string();
    ctx.workers->run<bool>(
        *ctx.loop,
        [password, hash] { return !hash.empty() && crypto::verify_password(password, hash); },
        [this, ex, flows, id, complete_stage](bool ok) {
          if (ex->closed()) return;
          if (ok) {
            complete_stage("m.login.password");
          } else {
            Error e = Error::forbidden("Invalid username or password");
            challenge(ex, id, flows, &e);
          }
        });
    return;
  }
  Status checked = check_stage ? check_stage(auth)
                               : Status(Error::with(400, "M_UNRECOGNIZED", "Unsupported stage"));
  if (!checked.ok()) {
    challenge(ex, id, flows, &checked.error());
    return;
  }
  complete_stage(type);
}

}  // namespace haven::client
