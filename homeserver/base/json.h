// JSON helpers over RapidJSON: bounded parsing of request bodies, field access that turns
// type mismatches into Matrix errors, and serialisation. Pure functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "homeserver/base/result.h"

namespace haven::json {

using Value = rapidjson::Value;
using Document = rapidjson::Document;
using Alloc = rapidjson::Document::AllocatorType;

// Parses a request body: M_NOT_JSON for syntax errors or invalid UTF-8, M_BAD_JSON when it
// nests deeper than `max_depth` or the top level is not an object.
Result<Document> parse_object(std::string_view text, int max_depth = 64);
// Parses any stored JSON text (trusted: our own records); a null document on failure.
Document parse_trusted(std::string_view text);

std::string to_string(const Value& v);
int depth_of(const Value& v);

// Field access on an object. `required_*` give M_MISSING_PARAM when absent and M_BAD_JSON
// (or M_INVALID_PARAM) when of the wrong type; `optional_*` give nullopt when absent.
Result<std::string> required_string(const Value& obj, const char* key);
Result<std::optional<std::string>> optional_string(const Value& obj, const char* key);
Result<std::optional<bool>> optional_bool(const Value& obj, const char* key);
Result<std::optional<int64_t>> optional_int(const Value& obj, const char* key);
Result<const Value*> required_object(const Value& obj, const char* key);
Result<const Value*> optional_object(const Value& obj, const char* key);
Result<std::optional<std::vector<std::string>>> optional_string_list(const Value& obj,
                                                                     const char* key);

// The member `key` of `obj`, or nullptr when `obj` is not an object or has no such member.
const Value* member(const Value& obj, std::string_view key);

// Lenient readers for trusted data (stored records): defaults when absent or mistyped.
std::string get_string(const Value& obj, const char* key, std::string_view fallback = {});
int64_t get_int(const Value& obj, const char* key, int64_t fallback = 0);
bool get_bool(const Value& obj, const char* key, bool fallback = false);

// Builders.
Value str(std::string_view s, Alloc& a);
void set(Value& obj, std::string_view key, Value v, Alloc& a);
void set(Value& obj, std::string_view key, std::string_view s, Alloc& a);
void set(Value& obj, std::string_view key, const char* s, Alloc& a);
void set(Value& obj, std::string_view key, int64_t n, Alloc& a);
void set(Value& obj, std::string_view key, int n, Alloc& a);
void set(Value& obj, std::string_view key, bool b, Alloc& a);
Document object();

}  // namespace haven::json
