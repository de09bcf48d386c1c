#include "homeserver/push/push_rules.h"

#include <algorithm>
#include <functional>
#include <map>

#include "homeserver/base/json.h"
#include "homeserver/base/write.h"
#include "homeserver/rooms/ids.h"

namespace haven::push {

namespace {

using Alloc = rapidjson::Document::AllocatorType;
using rapidjson::Value;

constexpr const char* kKindNames[] = {"override", "content", "room", "sender", "underride"};

std::string_view view(const Value& s) { return {s.GetString(), s.GetStringLength()}; }

// --- Building the defaults ---

Condition event_match(std::string key, std::string pattern) {
  Condition c;
  c.kind = "event_match";
  c.key = std::move(key);
  c.pattern = std::move(pattern);
  return c;
}

Condition property_is(std::string key, Scalar value) {
  Condition c;
  c.kind = "event_property_is";
  c.key = std::move(key);
  c.value = std::move(value);
  return c;
}

Condition property_contains(std::string key, Scalar value) {
  Condition c;
  c.kind = "event_property_contains";
  c.key = std::move(key);
  c.value = std::move(value);
  return c;
}

Condition member_count(std::string is) {
  Condition c;
  c.kind = "room_member_count";
  c.is = std::move(is);
  return c;
}

Condition notification_permission(std::string key) {
  Condition c;
  c.kind = "sender_notification_permission";
  c.key = std::move(key);
  return c;
}

Condition display_name_condition() {
  Condition c;
  c.kind = "contains_display_name";
  return c;
}

Action notify() { return {Action::Type::kNotify, {}, {}}; }
Action sound(std::string name) { return {Action::Type::kSetTweak, "sound", "\"" + name + "\""}; }
Action highlight() { return {Action::Type::kSetTweak, "highlight", {}}; }

Rule default_rule(std::string id, std::vector<Condition> conditions, std::vector<Action> actions,
                  bool enabled = true) {
  Rule r;
  r.rule_id = std::move(id);
  r.is_default = true;
  r.enabled = enabled;
  r.conditions = std::move(conditions);
  r.actions = std::move(actions);
  return r;
}

std::string localpart_of(std::string_view user_id) {
  if (user_id.empty() || user_id[0] != '@') return std::string(user_id);
  auto colon = user_id.find(':');
  return std::string(user_id.substr(1, colon == std::string_view::npos ? colon : colon - 1));
}

// --- JSON in and out ---

bool is_scalar(const Value& v) {
  return v.IsNull() || v.IsBool() || v.IsString() || (v.IsInt64() && !v.IsDouble());
}

Scalar to_scalar(const Value& v) {
  if (v.IsBool()) return v.GetBool();
  if (v.IsString()) return std::string(view(v));
  if (v.IsInt64()) return v.GetInt64();
  return nullptr;
}

Value scalar_json(const Scalar& s, Alloc& a) {
  return std::visit(
      [&a](const auto& x) -> Value {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) {
          return Value(rapidjson::kNullType);
        } else if constexpr (std::is_same_v<T, bool>) {
          return Value(x);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          return Value(x);
        } else {
          return json::str(x, a);
        }
      },
      s);
}

bool valid_member_count(std::string_view is) {
  for (std::string_view op : {"==", "<=", ">=", "<", ">"}) {
    if (is.substr(0, op.size()) == op) {
      is.remove_prefix(op.size());
      break;
    }
  }
  return !is.empty() && is.size() <= 15 &&
         std::all_of(is.begin(), is.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Result<Condition> parse_condition(const Value& v) {
  if (!v.IsObject()) return Error::bad_json("Each condition must be an object");
  auto kind = json::required_string(v, "kind");
  if (!kind.ok()) return std::move(kind).error();
  Condition c;
  c.kind = *kind;
  auto need_string = [&v](const char* key, std::string& out) -> Status {
    auto it = v.FindMember(key);
    if (it == v.MemberEnd() || !it->value.IsString()) {
      return Error::invalid_param(std::string("Condition needs a string '") + key + "'");
    }
    out = std::string(view(it->value));
    return {};
  };
  if (c.kind == "event_match") {
    HAVEN_TRY(need_string("key", c.key));
    HAVEN_TRY(need_string("pattern", c.pattern));
  } else if (c.kind == "event_property_is" || c.kind == "event_property_contains") {
    HAVEN_TRY(need_string("key", c.key));
    auto it = v.FindMember("value");
    if (it == v.MemberEnd() || !is_scalar(it->value)) {
      return Error::invalid_param("Condition needs a 'value': string, integer, boolean or null");
    }
    c.value = to_scalar(it->value);
  } else if (c.kind == "room_member_count") {
    HAVEN_TRY(need_string("is", c.is));
    if (!valid_member_count(c.is)) {
      return Error::invalid_param("'is' must be a number, optionally after ==, <, >, <= or >=");
    }
  } else if (c.kind == "sender_notification_permission") {
    HAVEN_TRY(need_string("key", c.key));
  } else if (c.kind != "contains_display_name") {
    c.unknown_json = json::to_string(v);
  }
  return c;
}

Value condition_to_json(const Condition& c, Alloc& a) {
  if (!c.unknown_json.empty()) {
    auto d = json::parse_trusted(c.unknown_json);
    Value out;
    out.CopyFrom(d, a);
    return out;
  }
  Value out(rapidjson::kObjectType);
  json::set(out, "kind", c.kind, a);
  if (c.kind == "event_match") {
    json::set(out, "key", c.key, a);
    json::set(out, "pattern", c.pattern, a);
  } else if (c.kind == "event_property_is" || c.kind == "event_property_contains") {
    json::set(out, "key", c.key, a);
    json::set(out, "value", scalar_json(c.value, a), a);
  } else if (c.kind == "room_member_count") {
    json::set(out, "is", c.is, a);
  } else if (c.kind == "sender_notification_permission") {
    json::set(out, "key", c.key, a);
  }
  return out;
}

// A rule as stored (our own JSON, already validated when it came in).
Rule stored_rule(const Value& v) {
  Rule r;
  r.rule_id = json::get_string(v, "rule_id");
  r.enabled = json::get_bool(v, "enabled", true);
  r.pattern = json::get_string(v, "pattern");
  if (auto it = v.FindMember("conditions"); it != v.MemberEnd() && it->value.IsArray()) {
    for (const Value& c : it->value.GetArray()) {
      if (auto parsed = parse_condition(c); parsed.ok()) r.conditions.push_back(*parsed);
    }
  }
  if (auto it = v.FindMember("actions"); it != v.MemberEnd()) {
    if (auto parsed = parse_actions(it->value); parsed.ok()) r.actions = std::move(*parsed);
  }
  return r;
}

// --- The stored record: the user's own rules and their changes to the defaults ---

struct DefaultChange {
  std::optional<bool> enabled;
  std::optional<std::vector<Action>> actions;
};

struct Stored {
  Ruleset user;
  std::map<std::pair<Kind, std::string>, DefaultChange> changes;
};

Stored load_stored(storage::ReadTxn& txn, std::string_view user_id) {
  Stored s;
  auto raw = txn.get(storage::Table::kPushRules, user_id);
  if (!raw) return s;
  auto d = json::parse_trusted(*raw);
  if (!d.IsObject()) return s;
  for (Kind k : kAllKinds) {
    const char* name = kind_name(k);
    if (auto rules = d.FindMember("rules"); rules != d.MemberEnd() && rules->value.IsObject()) {
      if (auto list = rules->value.FindMember(name);
          list != rules->value.MemberEnd() && list->value.IsArray()) {
        for (const Value& r : list->value.GetArray()) s.user.of(k).push_back(stored_rule(r));
      }
    }
    if (auto defs = d.FindMember("defaults"); defs != d.MemberEnd() && defs->value.IsObject()) {
      if (auto of_kind = defs->value.FindMember(name);
          of_kind != defs->value.MemberEnd() && of_kind->value.IsObject()) {
        for (auto& m : of_kind->value.GetObject()) {
          DefaultChange change;
          if (auto e = m.value.FindMember("enabled");
              e != m.value.MemberEnd() && e->value.IsBool()) {
            change.enabled = e->value.GetBool();
          }
          if (auto act = m.value.FindMember("actions"); act != m.value.MemberEnd()) {
            if (auto parsed = parse_actions(act->value); parsed.ok()) {
              change.actions = std::move(*parsed);
            }
          }
          s.changes[{k, std::string(view(m.name))}] = std::move(change);
        }
      }
    }
  }
  return s;
}

Status save_stored(storage::WriteTxn& txn, std::string_view user_id, const Stored& s) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  Value rules(rapidjson::kObjectType), defaults(rapidjson::kObjectType);
  for (Kind k : kAllKinds) {
    Value list(rapidjson::kArrayType);
    for (const Rule& r : s.user.of(k)) list.PushBack(rule_to_json(k, r, a), a);
    json::set(rules, kind_name(k), std::move(list), a);
    Value of_kind(rapidjson::kObjectType);
    for (const auto& [key, change] : s.changes) {
      if (key.first != k) continue;
      Value c(rapidjson::kObjectType);
      if (change.enabled) json::set(c, "enabled", *change.enabled, a);
      if (change.actions) json::set(c, "actions", actions_to_json(*change.actions, a), a);
      json::set(of_kind, key.second, std::move(c), a);
    }
    json::set(defaults, kind_name(k), std::move(of_kind), a);
  }
  json::set(d, "rules", std::move(rules), a);
  json::set(d, "defaults", std::move(defaults), a);
  return check(txn.put(storage::Table::kPushRules, user_id, json::to_string(d)));
}

bool is_default_id(std::string_view rule_id) { return !rule_id.empty() && rule_id[0] == '.'; }

std::vector<Rule>::iterator find_in(std::vector<Rule>& rules, std::string_view rule_id) {
  return std::find_if(rules.begin(), rules.end(),
                      [rule_id](const Rule& r) { return r.rule_id == rule_id; });
}

Error rule_not_found() { return Error::not_found("The push rule was not found."); }

// Applies `change` to the user's rule or records it against the default rule.
Status change_rule(storage::WriteTxn& txn, std::string_view user_id, Kind kind,
                   std::string_view rule_id, const std::function<void(DefaultChange&)>& on_default,
                   const std::function<void(Rule&)>& on_user) {
  Stored s = load_stored(txn, user_id);
  if (is_default_id(rule_id)) {
    if (!default_rules(user_id).find(kind, rule_id)) return rule_not_found();
    on_default(s.changes[{kind, std::string(rule_id)}]);
  } else {
    auto it = find_in(s.user.of(kind), rule_id);
    if (it == s.user.of(kind).end()) return rule_not_found();
    on_user(*it);
  }
  return save_stored(txn, user_id, s);
}

}  // namespace

std::optional<Kind> parse_kind(std::string_view name) {
  for (Kind k : kAllKinds) {
    if (name == kind_name(k)) return k;
  }
  return std::nullopt;
}

const char* kind_name(Kind kind) { return kKindNames[static_cast<size_t>(kind)]; }

const Rule* Ruleset::find(Kind kind, std::string_view rule_id) const {
  for (const Rule& r : of(kind)) {
    if (r.rule_id == rule_id) return &r;
  }
  return nullptr;
}

bool is_legacy_mention_rule(std::string_view rule_id) {
  return rule_id == ".m.rule.contains_display_name" || rule_id == ".m.rule.roomnotif" ||
         rule_id == ".m.rule.contains_user_name";
}

Ruleset default_rules(std::string_view user_id) {
  const std::string me(user_id);
  Ruleset r;
  auto& over = r.of(Kind::kOverride);
  over.push_back(default_rule(".m.rule.master", {}, {}, /*enabled=*/false));
  over.push_back(
      default_rule(".m.rule.suppress_notices", {event_match("content.msgtype", "m.notice")}, {}));
  over.push_back(
      default_rule(".m.rule.invite_for_me",
                   {event_match("type", "m.room.member"),
                    event_match("content.membership", "invite"), event_match("state_key", me)},
                   {notify(), sound("default")}));
  over.push_back(default_rule(".m.rule.member_event", {event_match("type", "m.room.member")}, {}));
  over.push_back(default_rule(".m.rule.is_user_mention",
                              {property_contains("content.m\\.mentions.user_ids", me)},
                              {notify(), sound("default"), highlight()}));
  // Legacy body-text mention rules (spec before v1.17, removed by MSC4210). Kept for clients
  // that do not send m.mentions; evaluate() skips them for events that carry m.mentions.
  over.push_back(default_rule(".m.rule.contains_display_name", {display_name_condition()},
                              {notify(), sound("default"), highlight()}));
  over.push_back(default_rule(
      ".m.rule.is_room_mention",
      {property_is("content.m\\.mentions.room", true), notification_permission("room")},
      {notify(), highlight()}));
  over.push_back(default_rule(
      ".m.rule.roomnotif", {event_match("content.body", "@room"), notification_permission("room")},
      {notify(), highlight()}));
  over.push_back(default_rule(
      ".m.rule.tombstone", {event_match("type", "m.room.tombstone"), event_match("state_key", "")},
      {notify(), highlight()}));
  over.push_back(default_rule(".m.rule.reaction", {event_match("type", "m.reaction")}, {}));
  over.push_back(
      default_rule(".m.rule.room.server_acl",
                   {event_match("type", "m.room.server_acl"), event_match("state_key", "")}, {}));
  over.push_back(
      default_rule(".m.rule.suppress_edits",
                   {property_is("content.m\\.relates_to.rel_type", std::string("m.replace"))}, {}));

  Rule user_name =
      default_rule(".m.rule.contains_user_name", {}, {notify(), sound("default"), highlight()});
  user_name.pattern = localpart_of(user_id);
  r.of(Kind::kContent).push_back(std::move(user_name));

  auto& under = r.of(Kind::kUnderride);
  under.push_back(default_rule(".m.rule.call", {event_match("type", "m.call.invite")},
                               {notify(), sound("ring")}));
  under.push_back(default_rule(".m.rule.encrypted_room_one_to_one",
                               {member_count("2"), event_match("type", "m.room.encrypted")},
                               {notify(), sound("default")}));
  under.push_back(default_rule(".m.rule.room_one_to_one",
                               {member_count("2"), event_match("type", "m.room.message")},
                               {notify(), sound("default")}));
  under.push_back(
      default_rule(".m.rule.message", {event_match("type", "m.room.message")}, {notify()}));
  under.push_back(
      default_rule(".m.rule.encrypted", {event_match("type", "m.room.encrypted")}, {notify()}));
  return r;
}

Result<std::vector<Action>> parse_actions(const Value& actions) {
  if (!actions.IsArray()) return Error::bad_json("'actions' must be an array");
  std::vector<Action> out;
  for (const Value& a : actions.GetArray()) {
    if (a.IsString()) {
      std::string_view name = view(a);
      if (name == "notify") {
        out.push_back(notify());
      } else if (name != "dont_notify" && name != "coalesce") {
        return Error::invalid_param("Unrecognised action: " + std::string(name));
      }
      continue;
    }
    auto tweak = a.IsObject() ? a.FindMember("set_tweak") : Value::ConstMemberIterator();
    if (!a.IsObject() || tweak == a.MemberEnd() || !tweak->value.IsString()) {
      return Error::invalid_param("Each action must be a string or a set_tweak object");
    }
    Action act{Action::Type::kSetTweak, std::string(view(tweak->value)), {}};
    if (auto v = a.FindMember("value"); v != a.MemberEnd())
      act.value_json = json::to_string(v->value);
    out.push_back(std::move(act));
  }
  return out;
}

Status check_new_rule_id(Kind kind, std::string_view rule_id) {
  if (rule_id.empty()) return Error::invalid_param("Empty rule id");
  if (is_default_id(rule_id)) {
    return Error::invalid_param("Rule ids starting with '.' are reserved for server-default rules");
  }
  if (rule_id.find_first_of("/\\") != std::string_view::npos) {
    return Error::invalid_param("Rule ids may not contain slashes or backslashes");
  }
  if (kind == Kind::kRoom && !rooms::is_valid_room_id(rule_id)) {
    return Error::invalid_param("The id of a room rule is the room's id");
  }
  if (kind == Kind::kSender && !rooms::is_valid_user_id(rule_id)) {
    return Error::invalid_param("The id of a sender rule is the sender's user id");
  }
  return {};
}

Result<Rule> parse_rule_body(Kind kind, std::string_view rule_id, const Value& body) {
  Rule r;
  r.rule_id = std::string(rule_id);
  auto actions = body.FindMember("actions");
  if (actions == body.MemberEnd()) return Error::missing_param("Missing 'actions'");
  auto parsed_actions = parse_actions(actions->value);
  if (!parsed_actions.ok()) return std::move(parsed_actions).error();
  r.actions = std::move(*parsed_actions);
  if (kind == Kind::kOverride || kind == Kind::kUnderride) {
    if (auto conds = body.FindMember("conditions"); conds != body.MemberEnd()) {
      if (!conds->value.IsArray()) return Error::bad_json("'conditions' must be an array");
      for (const Value& c : conds->value.GetArray()) {
        auto parsed = parse_condition(c);
        if (!parsed.ok()) return std::move(parsed).error();
        r.conditions.push_back(std::move(*parsed));
      }
    }
  }
  if (kind == Kind::kContent) {
    auto pattern = json::required_string(body, "pattern");
    if (!pattern.ok()) return std::move(pattern).error();
    r.pattern = *pattern;
  }
  return r;
}

Value actions_to_json(const std::vector<Action>& actions, Alloc& a) {
  Value list(rapidjson::kArrayType);
  for (const Action& act : actions) {
    if (act.type == Action::Type::kNotify) {
      list.PushBack(json::str("notify", a), a);
      continue;
    }
    Value t(rapidjson::kObjectType);
    json::set(t, "set_tweak", act.tweak, a);
    if (!act.value_json.empty()) {
      auto v = json::parse_trusted(act.value_json);
      Value copy;
      copy.CopyFrom(v, a);
      json::set(t, "value", std::move(copy), a);
    }
    list.PushBack(std::move(t), a);
  }
  return list;
}

Value rule_to_json(Kind kind, const Rule& rule, Alloc& a) {
  Value out(rapidjson::kObjectType);
  json::set(out, "rule_id", rule.rule_id, a);
  json::set(out, "default", rule.is_default, a);
  json::set(out, "enabled", rule.enabled, a);
  if (kind == Kind::kOverride || kind == Kind::kUnderride) {
    Value conds(rapidjson::kArrayType);
    for (const Condition& c : rule.conditions) conds.PushBack(condition_to_json(c, a), a);
    json::set(out, "conditions", std::move(conds), a);
  }
  if (kind == Kind::kContent) json::set(out, "pattern", rule.pattern, a);
  json::set(out, "actions", actions_to_json(rule.actions, a), a);
  return out;
}

rapidjson::Document ruleset_to_json(const Ruleset& rules) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  for (Kind k : kAllKinds) {
    Value list(rapidjson::kArrayType);
    for (const Rule& r : rules.of(k)) list.PushBack(rule_to_json(k, r, a), a);
    json::set(d, kind_name(k), std::move(list), a);
  }
  return d;
}

Ruleset load_rules(storage::ReadTxn& txn, std::string_view user_id) {
  Stored s = load_stored(txn, user_id);
  Ruleset defaults = default_rules(user_id);
  for (Kind k : kAllKinds) {
    for (Rule& r : defaults.of(k)) {
      auto it = s.changes.find({k, r.rule_id});
      if (it == s.changes.end()) continue;
      if (it->second.enabled) r.enabled = *it->second.enabled;
      if (it->second.actions) r.actions = *it->second.actions;
    }
  }
  Ruleset out;
  for (Kind k : kAllKinds) {
    auto& list = out.of(k);
    auto& defs = defaults.of(k);
    auto first_default = defs.begin();
    // .m.rule.master outranks even the user's own rules.
    if (k == Kind::kOverride && !defs.empty() && defs.front().rule_id == ".m.rule.master") {
      list.push_back(defs.front());
      ++first_default;
    }
    for (Rule& r : s.user.of(k)) list.push_back(std::move(r));
    list.insert(list.end(), first_default, defs.end());
  }
  return out;
}

Status put_rule(storage::WriteTxn& txn, std::string_view user_id, Kind kind, Rule rule,
                const Position& where) {
  Stored s = load_stored(txn, user_id);
  auto& list = s.user.of(kind);
  rule.is_default = false;
  auto existing = find_in(list, rule.rule_id);
  const std::optional<std::string>& anchor = where.before ? where.before : where.after;
  if (!anchor) {
    if (existing != list.end()) {
      rule.enabled = existing->enabled;
      *existing = std::move(rule);
    } else {
      rule.enabled = true;
      list.insert(list.begin(), std::move(rule));
    }
    return save_stored(txn, user_id, s);
  }
  if (is_default_id(*anchor)) {
    return Error::invalid_param("Rules cannot be placed relative to a server-default rule");
  }
  rule.enabled = existing != list.end() ? existing->enabled : true;
  if (existing != list.end()) list.erase(existing);
  auto target = find_in(list, *anchor);
  if (target == list.end()) {
    return Error::with(400, "M_UNKNOWN", "before/after rule not found: " + *anchor);
  }
  list.insert(where.before ? target : target + 1, std::move(rule));
  return save_stored(txn, user_id, s);
}

Status delete_rule(storage::WriteTxn& txn, std::string_view user_id, Kind kind,
                   std::string_view rule_id) {
  if (is_default_id(rule_id)) {
    if (!default_rules(user_id).find(kind, rule_id)) return rule_not_found();
    return Error::invalid_param("Server-default rules cannot be deleted; disable them instead");
  }
  Stored s = load_stored(txn, user_id);
  auto& list = s.user.of(kind);
  auto it = find_in(list, rule_id);
  if (it == list.end()) return rule_not_found();
  list.erase(it);
  return save_stored(txn, user_id, s);
}

Status set_rule_enabled(storage::WriteTxn& txn, std::string_view user_id, Kind kind,
                        std::string_view rule_id, bool enabled) {
  return change_rule(
      txn, user_id, kind, rule_id, [enabled](DefaultChange& c) { c.enabled = enabled; },
      [enabled](Rule& r) { r.enabled = enabled; });
}

Status set_rule_actions(storage::WriteTxn& txn, std::string_view user_id, Kind kind,
                        std::string_view rule_id, std::vector<Action> actions) {
  return change_rule(
      txn, user_id, kind, rule_id, [&actions](DefaultChange& c) { c.actions = actions; },
      [&actions](Rule& r) { r.actions = actions; });
}

rapidjson::Document push_rules_account_data(storage::ReadTxn& txn, std::string_view user_id) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  rapidjson::Document rules = ruleset_to_json(load_rules(txn, user_id));
  Value global;
  global.CopyFrom(rules, a);
  Value content(rapidjson::kObjectType);
  json::set(content, "global", std::move(global), a);
  json::set(d, "type", "m.push_rules", a);
  json::set(d, "content", std::move(content), a);
  return d;
}

}  // namespace haven::push
