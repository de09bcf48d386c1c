#include "homeserver/push/evaluator.h"

#include <algorithm>
#include <charconv>

namespace haven::push {

namespace {

std::string_view view(const rapidjson::Value& s) { return {s.GetString(), s.GetStringLength()}; }

// UTF-8 to code points; a byte that does not start a valid sequence stands for itself, so
// matching never fails on bad input (stored events are valid UTF-8 anyway).
std::vector<uint32_t> code_points(std::string_view s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<unsigned char>(s[i]);
    int len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    if (len <= 1 || i + len > s.size()) {
      out.push_back(b);
      ++i;
      continue;
    }
    uint32_t cp = b & (0xFF >> (len + 1));
    bool ok = true;
    for (int k = 1; k < len; ++k) {
      auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (c & 0x3F);
    }
    if (!ok) {
      out.push_back(b);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

// Case folding for the scripts most display names and messages use: ASCII, Latin-1, Latin
// Extended-A, Greek and Cyrillic capitals. The spec leaves "case-insensitive" to the server.
uint32_t fold(uint32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) return c | 1;
  if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c & 1) ? c + 1 : c;
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}

bool is_word(uint32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

struct Token {
  enum Type { kChar, kOne, kMany } type;
  uint32_t cp;
};

std::vector<Token> tokenize(std::string_view pattern, bool literal) {
  std::vector<Token> out;
  for (uint32_t c : code_points(pattern)) {
    if (!literal && c == '*') {
      // Runs of '*' mean the same as one.
      if (out.empty() || out.back().type != Token::kMany) out.push_back({Token::kMany, 0});
    } else if (!literal && c == '?') {
      out.push_back({Token::kOne, 0});
    } else {
      out.push_back({Token::kChar, fold(c)});
    }
  }
  return out;
}

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

bool glob_match(std::string_view pattern, std::string_view value, bool word_boundary,
                bool literal) {
  std::vector<Token> tokens = tokenize(pattern, literal);
  std::vector<uint32_t> text = code_points(value);
  const size_t m = tokens.size(), n = text.size();
  // A simulation of the pattern's automaton: state j means "the first j tokens matched".
  // In word-boundary mode a new attempt starts at every boundary, all in one pass: O(n*m).
  std::vector<uint8_t> cur(m + 1, 0), next(m + 1, 0);
  for (size_t i = 0;; ++i) {
    bool start_here = word_boundary ? (i == 0 || !is_word(text[i - 1])) : i == 0;
    if (start_here) cur[0] = 1;
    for (size_t j = 0; j < m; ++j) {
      if (cur[j] && tokens[j].type == Token::kMany) cur[j + 1] = 1;
    }
    bool end_here = word_boundary ? (i == n || !is_word(text[i])) : i == n;
    if (cur[m] && end_here) return true;
    if (i == n) return false;
    if (!word_boundary && std::find(cur.begin(), cur.end(), 1) == cur.end()) return false;
    std::fill(next.begin(), next.end(), 0);
    uint32_t c = fold(text[i]);
    for (size_t j = 0; j < m; ++j) {
      if (!cur[j]) continue;
      switch (tokens[j].type) {
        case Token::kMany:
          next[j] = 1;
          break;
        case Token::kOne:
          next[j + 1] = 1;
          break;
        case Token::kChar:
          if (tokens[j].cp == c) next[j + 1] = 1;
          break;
      }
    }
    std::swap(cur, next);
  }
}

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
