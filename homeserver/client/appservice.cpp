// Client-Server API extensions for application services: the ping
// (/_matrix/client/v1/appservice/{appserviceId}/ping) and the third-party lookups, which this
// server answers empty (no service registers protocols with it yet); and the user and alias
// queries made on behalf of other handlers.
#include "homeserver/client/appservice.h"

#include <chrono>

#include "appservices/appservices.h"
#include "appservices/queries.h"
#include "homeserver/accounts/account_store.h"
#include "homeserver/client/routes.h"
#include "homeserver/rooms/ids.h"
#include "homeserver/sync/streams.h"
#include "storage/keys.h"

namespace haven::client {

namespace {
// Questions to services run as blocking calls on the worker pool, which password hashing
// needs too; unauthenticated requests (profile lookups) can cause them. One at a time: while
// one is out, further unknown users and aliases are answered as unknown without asking.
constexpr int kMaxQueriesInFlight = 1;
int queries_in_flight = 0;  // loop thread only

template <typename Query>
void ask_appservice(ServerContext& ctx, Query query, std::function<void()> then) {
  if (queries_in_flight >= kMaxQueriesInFlight) return then();
  ++queries_in_flight;
  ctx.workers->run<bool>(*ctx.loop, std::move(query), [then = std::move(then)](bool) {
    --queries_in_flight;
    then();
  });
}
}  // namespace

void ask_appservice_for_user(ServerContext& ctx, const std::string& user_id,
                             std::function<void()> then) {
  const appservice::AppService* owner = nullptr;
  if (ctx.appservices && rooms::server_name_of(user_id) == ctx.server_name) {
    owner = ctx.appservices->registry().exclusive_owner_of_user(user_id);
  }
  if (owner) {
    auto txn = ctx.store->begin_read();
    if (txn && accounts::get_user(*txn, user_id)) owner = nullptr;
  }
  if (!owner) return then();
  ask_appservice(
      ctx, [owner, user_id] { return appservice::query_user(*owner, user_id); }, std::move(then));
}

void ask_appservice_for_alias(ServerContext& ctx, const std::string& alias,
                              std::function<void()> then) {
  std::vector<const appservice::AppService*> asked;
  if (ctx.appservices && rooms::server_name_of(alias) == ctx.server_name) {
    for (const auto& s : ctx.appservices->registry().all()) {
      if (s->is_interested_in_alias(alias)) asked.push_back(s.get());
    }
  }
  if (!asked.empty()) {
    auto txn = ctx.store->begin_read();
    if (txn && txn->get(storage::Table::kRoomAliases, alias)) asked.clear();
  }
  if (asked.empty()) return then();
  ask_appservice(
      ctx,
      [asked, alias] {
        for (const auto* s : asked) {
          if (appservice::query_alias(*s, alias)) return true;
        }
        return false;
      },
      std::move(then));
}

void appservice_typing(ServerContext& ctx, const std::string& room_id) {
  if (!ctx.appservices || !ctx.typing) return;
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "type", "m.typing", a);
  json::set(d, "room_id", room_id, a);
  json::Value content(rapidjson::kObjectType), ids(rapidjson::kArrayType);
  for (const std::string& u : ctx.typing->typers(room_id)) ids.PushBack(json::str(u, a), a);
  json::set(content, "user_ids", std::move(ids), a);
  json::set(d, "content", std::move(content), a);
  ctx.appservices->ephemeral({"m.typing", room_id, "", false, json::to_string(d)});
}

void appservice_receipt(ServerContext& ctx, const std::string& room_id,
                        const std::string& receipt_type, const std::string& event_id,
                        const std::string& user_id, const std::string& thread_id, int64_t ts) {
  if (!ctx.appservices) return;
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "type", "m.receipt", a);
  json::set(d, "room_id", room_id, a);
  json::Value receipt(rapidjson::kObjectType);
  json::set(receipt, "ts", ts, a);
  if (!thread_id.empty()) json::set(receipt, "thread_id", thread_id, a);
  json::Value by_user(rapidjson::kObjectType), by_type(rapidjson::kObjectType),
      content(rapidjson::kObjectType);
  json::set(by_user, user_id, std::move(receipt), a);
  json::set(by_type, receipt_type, std::move(by_user), a);
  json::set(content, event_id, std::move(by_type), a);
  json::set(d, "content", std::move(content), a);
  ctx.appservices->ephemeral(
      {"m.receipt", room_id, user_id, receipt_type == "m.read.private", json::to_string(d)});
}

void appservice_presence(ServerContext& ctx, const std::string& user_id) {
  if (!ctx.appservices) return;
  std::optional<streams::Presence> p;
  if (auto txn = ctx.store->begin_read()) p = streams::get_presence(*txn, user_id);
  if (!p) return;
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "type", "m.presence", a);
  json::set(d, "sender", user_id, a);
  json::Value content(streams::presence_content(*p, now_ms()), a);
  json::set(d, "content", std::move(content), a);
  ctx.appservices->ephemeral({"m.presence", "", user_id, false, json::to_string(d)});
}

namespace {

// What the ping's failure looks like to the service that asked (spec: 502/504 with errcodes).
Error ping_error(const appservice::HttpAnswer& answer) {
  using Outcome = appservice::HttpAnswer::Outcome;
  if (answer.outcome == Outcome::kTimedOut) {
    return Error::with(504, "M_CONNECTION_TIMEOUT", "The application service did not answer");
  }
  if (answer.outcome != Outcome::kAnswered) {
    return Error::with(502, "M_CONNECTION_FAILED",
                       "Cannot reach the application service: " + answer.detail);
  }
  Error e = Error::with(502, "M_BAD_STATUS",
                        "The application service answered HTTP " + std::to_string(answer.status));
  json::Document extra = json::object();
  auto& a = extra.GetAllocator();
  json::set(extra, "status", static_cast<int64_t>(answer.status), a);
  json::set(extra, "body", answer.body, a);
  std::string text = json::to_string(extra);
  e.extra_json = text.substr(1, text.size() - 2);  // the members, without the braces
  return e;
}

// POST /_matrix/client/v1/appservice/{appserviceId}/ping
void ping_appservice(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  const std::string& id = ex->params[0];
  if (!who.appservice || who.appservice->id() != id) {
    return ex->reply_error(
        Error::forbidden("Only the application service itself may ping it with its as_token"));
  }
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto txn_id = json::optional_string(*body, "transaction_id");
  if (!txn_id.ok()) return ex->reply_error(txn_id.error());
  if (who.appservice->registration().url.empty()) {
    return ex->reply_error(
        Error::with(400, "M_URL_NOT_SET", "The application service has no url registered"));
  }
  auto out = json::object();
  if (txn_id->has_value()) json::set(out, "transaction_id", **txn_id, out.GetAllocator());
  const auto* service = who.appservice;
  auto started = std::chrono::steady_clock::now();
  ctx.workers->run<appservice::HttpAnswer>(
      *ctx.loop, [service, text = json::to_string(out)] { return appservice::ping(*service, text); },
      [&ctx, ex, service, started](appservice::HttpAnswer answer) {
        if (!answer.ok()) return ex->reply_error(ping_error(answer));
        ctx.appservices->reachable(service->id());
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
        ex->reply_json(200, "{\"duration_ms\":" + std::to_string(ms) + "}");
      });
}

}  // namespace

void register_appservice_routes(http::Router& r, ServerContext& ctx) {
  add_authed(r, ctx, "POST", "/_matrix/client/v1/appservice/{appserviceId}/ping",
             [&ctx](auto& ex, auto& who) { ping_appservice(ctx, ex, who); });
  // Third-party networks: no service has told this server of a protocol, so every lookup
  // finds nothing.
  add_authed(r, ctx, "GET", v3("/thirdparty/protocols"),
             [](auto& ex, auto&) { ex->reply_json(200, "{}"); });
  add_authed(r, ctx, "GET", v3("/thirdparty/protocol/{protocol}"), [](auto& ex, auto&) {
    ex->reply_error(Error::not_found("No such protocol"));
  });
  for (const char* path : {"/thirdparty/location/{protocol}", "/thirdparty/user/{protocol}",
                           "/thirdparty/location", "/thirdparty/user"}) {
    add_authed(r, ctx, "GET", v3(path), [](auto& ex, auto&) { ex->reply_json(200, "[]"); });
  }
}

}  // namespace haven::client
