#include "homeserver/push/evaluator.h"

#include <algorithm>
#include <charconv>

namespace haven::push {

namespace {

std::string_view view(const rapidjson::Value& s) { return {s.GetString(), s.GetStringLength()}; }

bool equals_scalar(const rapidjson::Value& v, const Scalar& want) {
  return std::visit(
      [&v](const auto& w) -> bool {
        using T = std::decay_t<decltype(w)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) {
          return v.IsNull();
        } else if constexpr (std::is_same_v<T, bool>) {
          return v.IsBool() && v.GetBool() == w;
        } else if constexpr (std::is_same_v<T, int64_t>) {
          return v.IsInt64() && !v.IsDouble() && v.GetInt64() == w;
        } else {
          return v.IsString() && view(v) == w;
        }
      },
      want);
}

// `is` of room_member_count ("2", "<=10", ...); a malformed `is` never matches.
bool member_count_matches(std::string_view is, int64_t count) {
  std::string_view op = "==";
  for (std::string_view candidate : {"==", "<=", ">=", "<", ">"}) {
    if (is.substr(0, candidate.size()) == candidate) {
      op = candidate;
      is.remove_prefix(candidate.size());
      break;
    }
  }
  if (is.empty() || !std::all_of(is.begin(), is.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  int64_t n = 0;
  auto [end, ec] = std::from_chars(is.data(), is.data() + is.size(), n);
  if (ec != std::errc() || end != is.data() + is.size()) return false;
  if (op == "==") return count == n;
  if (op == "<=") return count <= n;
  if (op == ">=") return count >= n;
  if (op == "<") return count < n;
  return count > n;
}

const rapidjson::Value* body_of(const rapidjson::Value& event) {
  const rapidjson::Value* body = property_at(event, "content.body");
  return body && body->IsString() ? body : nullptr;
}

}  // namespace

std::vector<std::string> split_property_path(std::string_view path) {
  std::vector<std::string> parts(1);
  for (size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '\\' && i + 1 < path.size() && (path[i + 1] == '.' || path[i + 1] == '\\')) {
      parts.back().push_back(path[++i]);
    } else if (c == '.') {
      parts.emplace_back();
    } else {
      parts.back().push_back(c);
    }
  }
  return parts;
}

const rapidjson::Value* property_at(const rapidjson::Value& event, std::string_view path) {
  const rapidjson::Value* v = &event;
  for (const std::string& part : split_property_path(path)) {
    if (!v->IsObject()) return nullptr;
    auto it = v->FindMember(rapidjson::Value(
        rapidjson::StringRef(part.data(), static_cast<rapidjson::SizeType>(part.size()))));
    if (it == v->MemberEnd()) return nullptr;
    v = &it->value;
  }
  return v;
}

bool condition_matches(const Condition& c, const rapidjson::Value& event, const PushContext& ctx) {
  if (c.kind == "event_match") {
    const rapidjson::Value* v = property_at(event, c.key);
    if (!v || !v->IsString()) return false;
    return glob_match(c.pattern, view(*v), c.key == "content.body");
  }
  if (c.kind == "event_property_is") {
    const rapidjson::Value* v = property_at(event, c.key);
    return v && equals_scalar(*v, c.value);
  }
  if (c.kind == "event_property_contains") {
    const rapidjson::Value* v = property_at(event, c.key);
    if (!v || !v->IsArray()) return false;
    return std::any_of(v->Begin(), v->End(),
                       [&c](const rapidjson::Value& e) { return equals_scalar(e, c.value); });
  }
  if (c.kind == "contains_display_name") {
    const rapidjson::Value* body = body_of(event);
    if (!body || ctx.display_name.empty()) return false;
    return glob_match(ctx.display_name, view(*body), true, /*literal=*/true);
  }
  if (c.kind == "room_member_count") return member_count_matches(c.is, ctx.room_member_count);
  if (c.kind == "sender_notification_permission") {
    auto it = ctx.notification_levels.find(c.key);
    int64_t needed = it == ctx.notification_levels.end() ? 50 : it->second;
    return ctx.sender_power_level >= needed;
  }
  return false;  // unrecognised conditions never match
}

bool rule_matches(Kind kind, const Rule& rule, const rapidjson::Value& event,
                  const PushContext& ctx) {
  switch (kind) {
    case Kind::kOverride:
    case Kind::kUnderride:
      return std::all_of(rule.conditions.begin(), rule.conditions.end(),
                         [&](const Condition& c) { return condition_matches(c, event, ctx); });
    case Kind::kContent: {
      const rapidjson::Value* body = body_of(event);
      return body && glob_match(rule.pattern, view(*body), true);
    }
    case Kind::kRoom: {
      const rapidjson::Value* room = property_at(event, "room_id");
      return room && room->IsString() && view(*room) == rule.rule_id;
    }
    case Kind::kSender: {
      const rapidjson::Value* sender = property_at(event, "sender");
      return sender && sender->IsString() && view(*sender) == rule.rule_id;
    }
  }
  return false;
}

PushResult evaluate(const Ruleset& rules, const rooms::Event& event, const PushContext& ctx) {
  PushResult result;
  if (event.sender() == ctx.user_id) return result;
  const rapidjson::Value& json = event.json();
  bool has_mentions = property_at(json, "content.m\\.mentions") != nullptr;
  for (Kind kind : kAllKinds) {
    for (const Rule& rule : rules.of(kind)) {
      if (!rule.enabled) continue;
      if (has_mentions && rule.is_default && is_legacy_mention_rule(rule.rule_id)) continue;
      if (!rule_matches(kind, rule, json, ctx)) continue;
      result.rule_id = rule.rule_id;
      result.actions = rule.actions;
      for (const Action& a : rule.actions) {
        if (a.type == Action::Type::kNotify) {
          result.notify = true;
        } else if (a.tweak == "highlight") {
          result.highlight = a.value_json.empty() || a.value_json == "true";
        } else if (a.tweak == "sound") {
          rapidjson::Document v;
          v.Parse(a.value_json.data(), a.value_json.size());
          if (!v.HasParseError() && v.IsString()) result.sound = std::string(view(v));
        }
      }
      return result;
    }
  }
  return result;
}

}  // namespace haven::push
