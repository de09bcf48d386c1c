// Client-Server API: push rules (read the ruleset; add, change, delete, enable and set the
// actions of single rules). Changes reach the user's other clients as m.push_rules account
// data in /sync.
#include "homeserver/push/push_rules.h"

#include "homeserver/base/write.h"
#include "homeserver/client/routes.h"
#include "homeserver/sync/notifier.h"
#include "homeserver/sync/streams.h"

namespace haven::client {

namespace {

// The {kind} and {ruleId} path parameters.
struct RuleRef {
  push::Kind kind;
  std::string rule_id;
};

Result<RuleRef> rule_ref(const http::Exchange& ex) {
  auto kind = push::parse_kind(ex.params[0]);
  if (!kind) {
    return Error::invalid_param("Unknown push rule kind '" + ex.params[0] +
                                "': expected override, content, room, sender or underride");
  }
  return RuleRef{*kind, ex.params[1]};
}

// Runs `change` on the writer, then records the new ruleset in the account data stream (so
// incremental syncs carry it) and wakes the user's syncs.
void change_rules(ServerContext& ctx, const http::ExchangePtr& ex, const std::string& user_id,
                  std::function<Status(storage::WriteTxn&)> change) {
  write<bool>(
      *ctx.store,
      [user_id, change = std::move(change)](storage::WriteTxn& txn) -> Result<bool> {
        HAVEN_TRY(change(txn));
        auto event = push::push_rules_account_data(txn, user_id);
        HAVEN_TRY(check(streams::put_account_data(txn, user_id, "", "m.push_rules",
                                                  json::to_string(event["content"]))));
        return true;
      },
      [&ctx, ex, user_id](Result<bool> r) {
        if (!r.ok()) return ex->reply_error(r.error());
        if (ctx.unread) ctx.unread->forget_user(user_id);
        ctx.notifier->notify_user(user_id);
        ex->reply_json(200, "{}");
      });
}

// Looks up the rule the path names: M_NOT_FOUND when there is none.
Result<push::Rule> find_rule(ServerContext& ctx, const Requester& who, const RuleRef& ref) {
  auto txn = ctx.store->begin_read();
  push::Ruleset rules = push::load_rules(*txn, who.user_id);
  const push::Rule* rule = rules.find(ref.kind, ref.rule_id);
  if (!rule) return Error::not_found("The push rule was not found.");
  return *rule;
}

// GET /_matrix/client/v3/pushrules/
void get_push_rules(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto txn = ctx.store->begin_read();
  auto d = json::object();
  auto rules = push::ruleset_to_json(push::load_rules(*txn, who.user_id));
  json::Value global;
  global.CopyFrom(rules, d.GetAllocator());
  json::set(d, "global", std::move(global), d.GetAllocator());
  ex->reply_json(200, d);
}

// GET /_matrix/client/v3/pushrules/global/
void get_push_rules_global(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto txn = ctx.store->begin_read();
  ex->reply_json(200, push::ruleset_to_json(push::load_rules(*txn, who.user_id)));
}

// GET /_matrix/client/v3/pushrules/global/{kind}/{ruleId}
void get_push_rule(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto ref = rule_ref(*ex);
  if (!ref.ok()) return ex->reply_error(ref.error());
  auto rule = find_rule(ctx, who, *ref);
  if (!rule.ok()) return ex->reply_error(rule.error());
  auto d = json::object();
  json::Value v = push::rule_to_json(ref->kind, *rule, d.GetAllocator());
  ex->reply_json(200, v);
}

// PUT /_matrix/client/v3/pushrules/global/{kind}/{ruleId}
void set_push_rule(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto ref = rule_ref(*ex);
  if (!ref.ok()) return ex->reply_error(ref.error());
  if (auto s = push::check_new_rule_id(ref->kind, ref->rule_id); !s.ok()) {
    return ex->reply_error(s.error());
  }
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto rule = push::parse_rule_body(ref->kind, ref->rule_id, *body);
  if (!rule.ok()) return ex->reply_error(rule.error());
  push::Position where{ex->query("before"), ex->query("after")};
  change_rules(
      ctx, ex, who.user_id,
      [user_id = who.user_id, kind = ref->kind, rule = std::move(*rule),
       where](storage::WriteTxn& txn) { return push::put_rule(txn, user_id, kind, rule, where); });
}

// DELETE /_matrix/client/v3/pushrules/global/{kind}/{ruleId}
void delete_push_rule(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto ref = rule_ref(*ex);
  if (!ref.ok()) return ex->reply_error(ref.error());
  change_rules(ctx, ex, who.user_id, [user_id = who.user_id, ref = *ref](storage::WriteTxn& txn) {
    return push::delete_rule(txn, user_id, ref.kind, ref.rule_id);
  });
}

// GET /_matrix/client/v3/pushrules/global/{kind}/{ruleId}/enabled
void is_push_rule_enabled(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto ref = rule_ref(*ex);
  if (!ref.ok()) return ex->reply_error(ref.error());
  auto rule = find_rule(ctx, who, *ref);
  if (!rule.ok()) return ex->reply_error(rule.error());
  auto d = json::object();
  json::set(d, "enabled", rule->enabled, d.GetAllocator());
  ex->reply_json(200, d);
}

// PUT /_matrix/client/v3/pushrules/global/{kind}/{ruleId}/enabled
void set_push_rule_enabled(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto ref = rule_ref(*ex);
  if (!ref.ok()) return ex->reply_error(ref.error());
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto enabled = json::optional_bool(*body, "enabled");
  if (!enabled.ok()) return ex->reply_error(enabled.error());
  if (!enabled->has_value()) return ex->reply_error(Error::missing_param("Missing 'enabled'"));
  change_rules(ctx, ex, who.user_id,
               [user_id = who.user_id, ref = *ref, on = **enabled](storage::WriteTxn& txn) {
                 return push::set_rule_enabled(txn, user_id, ref.kind, ref.rule_id, on);
               });
}

// GET /_matrix/client/v3/pushrules/global/{kind}/{ruleId}/actions
void get_push_rule_actions(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto ref = rule_ref(*ex);
  if (!ref.ok()) return ex->reply_error(ref.error());
  auto rule = find_rule(ctx, who, *ref);
  if (!rule.ok()) return ex->reply_error(rule.error());
  auto d = json::object();
  json::set(d, "actions", push::actions_to_json(rule->actions, d.GetAllocator()), d.GetAllocator());
  ex->reply_json(200, d);
}

// PUT /_matrix/client/v3/pushrules/global/{kind}/{ruleId}/actions
void set_push_rule_actions(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto ref = rule_ref(*ex);
  if (!ref.ok()) return ex->reply_error(ref.error());
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto it = body->FindMember("actions");
  if (it == body->MemberEnd()) return ex->reply_error(Error::missing_param("Missing 'actions'"));
  auto actions = push::parse_actions(it->value);
  if (!actions.ok()) return ex->reply_error(actions.error());
  change_rules(
      ctx, ex, who.user_id,
      [user_id = who.user_id, ref = *ref, actions = std::move(*actions)](storage::WriteTxn& txn) {
        return push::set_rule_actions(txn, user_id, ref.kind, ref.rule_id, actions);
      });
}

}  // namespace

void register_push_rule_routes(http::Router& r, ServerContext& ctx) {
  // Clients ask with and without the trailing slash.
  for (const char* path : {"/pushrules/", "/pushrules"}) {
    add_authed(r, ctx, "GET", v3(path),
               [&ctx](auto& ex, auto& who) { get_push_rules(ctx, ex, who); });
  }
  for (const char* path : {"/pushrules/global/", "/pushrules/global"}) {
    add_authed(r, ctx, "GET", v3(path),
               [&ctx](auto& ex, auto& who) { get_push_rules_global(ctx, ex, who); });
  }
  const std::string rule = v3("/pushrules/global/{kind}/{ruleId}");
  add_authed(r, ctx, "GET", rule, [&ctx](auto& ex, auto& who) { get_push_rule(ctx, ex, who); });
  add_authed(r, ctx, "PUT", rule, [&ctx](auto& ex, auto& who) { set_push_rule(ctx, ex, who); });
  add_authed(r, ctx, "DELETE", rule,
             [&ctx](auto& ex, auto& who) { delete_push_rule(ctx, ex, who); });
  add_authed(r, ctx, "GET", rule + "/enabled",
             [&ctx](auto& ex, auto& who) { is_push_rule_enabled(ctx, ex, who); });
  add_authed(r, ctx, "PUT", rule + "/enabled",
             [&ctx](auto& ex, auto& who) { set_push_rule_enabled(ctx, ex, who); });
  add_authed(r, ctx, "GET", rule + "/actions",
             [&ctx](auto& ex, auto& who) { get_push_rule_actions(ctx, ex, who); });
  add_authed(r, ctx, "PUT", rule + "/actions",
             [&ctx](auto& ex, auto& who) { set_push_rule_actions(ctx, ex, who); });
}

}  // namespace haven::client
