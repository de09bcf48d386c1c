#include "homeserver/base/json.h"

#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace haven::json {

namespace {
constexpr unsigned kBodyParseFlags =
    rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;

bool has_nul(const Value& s) {
  return std::string_view(s.GetString(), s.GetStringLength()).find('\0') != std::string_view::npos;
}

// Nesting depth, counted no further than `limit`; strings holding U+0000 count as too deep
// (they would break key encodings and no Matrix field needs them).
int depth_below(const Value& v, int limit) {
  if (limit < 0) return 0;
  if (v.IsString()) return has_nul(v) ? 1 << 20 : 0;
  int deepest = 0;
  if (v.IsObject()) {
    for (auto& m : v.GetObject()) {
      if (has_nul(m.name)) return 1 << 20;
      deepest = std::max(deepest, depth_below(m.value, limit - 1));
    }
    return deepest + 1;
  }
  if (v.IsArray()) {
    for (auto& e : v.GetArray()) deepest = std::max(deepest, depth_below(e, limit - 1));
    return deepest + 1;
  }
  return 0;
}
}  // namespace

int depth_of(const Value& v) { return depth_below(v, 1 << 20); }

Result<Document> parse_object(std::string_view text, int max_depth) {
  Document doc;
  doc.Parse<kBodyParseFlags>(text.data(), text.size());
  if (doc.HasParseError()) {
    return Error::not_json(std::string("Content not JSON: ") +
                           rapidjson::GetParseError_En(doc.GetParseError()));
  }
  if (!doc.IsObject()) return Error::bad_json("Request body must be a JSON object");
  // depth_below stops counting past the limit, so hostile nesting costs at most max_depth.
  if (depth_below(doc, max_depth + 1) > max_depth) {
    return Error::bad_json("JSON nested too deeply, or a string holds U+0000");
  }
  return doc;
}

Document parse_trusted(std::string_view text) {
  Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (doc.HasParseError()) doc.SetNull();
  return doc;
}

std::string to_string(const Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

const Value* member(const Value& obj, std::string_view key) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(rapidjson::StringRef(key.data(), key.size()));
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

namespace {
Error wrong_type(const char* key, const char* want) {
  return Error::bad_json(std::string("'") + key + "' must be " + want);
}
}  // namespace

Result<std::string> required_string(const Value& obj, const char* key) {
  const Value* v = member(obj, key);
  if (!v) return Error::missing_param(std::string("Missing '") + key + "'");
  if (!v->IsString()) return wrong_type(key, "a string");
  return std::string(v->GetString(), v->GetStringLength());
}

Result<std::optional<std::string>> optional_string(const Value& obj, const char* key) {
  const Value* v = member(obj, key);
  if (!v || v->IsNull()) return std::optional<std::string>();
  if (!v->IsString()) return wrong_type(key, "a string");
  return std::optional<std::string>(std::string(v->GetString(), v->GetStringLength()));
}

Result<std::optional<bool>> optional_bool(const Value& obj, const char* key) {
  const Value* v = member(obj, key);
  if (!v || v->IsNull()) return std::optional<bool>();
  if (!v->IsBool()) return wrong_type(key, "a boolean");
  return std::optional<bool>(v->GetBool());
}

Result<std::optional<int64_t>> optional_int(const Value& obj, const char* key) {
  const Value* v = member(obj, key);
  if (!v || v->IsNull()) return std::optional<int64_t>();
  if (!v->IsInt64()) return wrong_type(key, "an integer");
  return std::optional<int64_t>(v->GetInt64());
}

Result<const Value*> required_object(const Value& obj, const char* key) {
  const Value* v = member(obj, key);
  if (!v) return Error::missing_param(std::string("Missing '") + key + "'");
  if (!v->IsObject()) return wrong_type(key, "an object");
  return v;
}

Result<const Value*> optional_object(const Value& obj, const char* key) {
  const Value* v = member(obj, key);
  if (!v || v->IsNull()) return static_cast<const Value*>(nullptr);
  if (!v->IsObject()) return wrong_type(key, "an object");
  return v;
}

Result<std::optional<std::vector<std::string>>> optional_string_list(const Value& obj,
                                                                     const char* key) {
  const Value* v = member(obj, key);
  if (!v || v->IsNull()) return std::optional<std::vector<std::string>>();
  if (!v->IsArray()) return wrong_type(key, "a list of strings");
  std::vector<std::string> out;
  for (auto& e : v->GetArray()) {
    if (!e.IsString()) return wrong_type(key, "a list of strings");
    out.emplace_back(e.GetString(), e.GetStringLength());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

std::string get_string(const Value& obj, const char* key, std::string_view fallback) {
  const Value* v = member(obj, key);
  if (!v || !v->IsString()) return std::string(fallback);
  return std::string(v->GetString(), v->GetStringLength());
}

int64_t get_int(const Value& obj, const char* key, int64_t fallback) {
  const Value* v = member(obj, key);
  return v && v->IsInt64() ? v->GetInt64() : fallback;
}

bool get_bool(const Value& obj, const char* key, bool fallback) {
  const Value* v = member(obj, key);
  return v && v->IsBool() ? v->GetBool() : fallback;
}

Value str(std::string_view s, Alloc& a) {
  return Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

void set(Value& obj, std::string_view key, Value v, Alloc& a) {
  auto it = obj.FindMember(Value(rapidjson::StringRef(key.data(), key.size())));
  if (it != obj.MemberEnd()) {
    it->value = std::move(v);
    return;
  }
  obj.AddMember(str(key, a), std::move(v), a);
}
void set(Value& obj, std::string_view key, std::string_view s, Alloc& a) {
  set(obj, key, str(s, a), a);
}
void set(Value& obj, std::string_view key, const char* s, Alloc& a) {
  set(obj, key, str(s, a), a);
}
void set(Value& obj, std::string_view key, int64_t n, Alloc& a) { set(obj, key, Value(n), a); }
void set(Value& obj, std::string_view key, int n, Alloc& a) {
  set(obj, key, Value(static_cast<int64_t>(n)), a);
}
void set(Value& obj, std::string_view key, bool b, Alloc& a) { set(obj, key, Value(b), a); }

Document object() {
  Document d;
  d.SetObject();
  return d;
}

}  // namespace haven::json
