// Small RapidJSON readers and builders shared by the room core's (de)serialisers.
// Internal to homeserver/rooms; pure functions, any thread.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace haven::rooms::detail {

using Alloc = rapidjson::Document::AllocatorType;

inline std::string_view view(const rapidjson::Value& s) {
  return {s.GetString(), s.GetStringLength()};
}

// The member `key` of `obj`, or nullptr when `obj` is not an object or lacks it.
inline const rapidjson::Value* member(const rapidjson::Value& obj, std::string_view key) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(rapidjson::Value(rapidjson::StringRef(key.data(), key.size())));
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

inline std::optional<std::string_view> string_member(const rapidjson::Value& obj,
                                                     std::string_view key) {
  const rapidjson::Value* v = member(obj, key);
  if (!v || !v->IsString()) return std::nullopt;
  return view(*v);
}

inline std::optional<int64_t> int_member(const rapidjson::Value& obj, std::string_view key) {
  const rapidjson::Value* v = member(obj, key);
  if (!v || !v->IsInt64()) return std::nullopt;
  return v->GetInt64();
}

inline rapidjson::Value str(std::string_view s, Alloc& a) {
  return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

// Sets obj[key] = value, replacing an existing member.
inline void set_member(rapidjson::Value& obj, std::string_view key, rapidjson::Value value,
                       Alloc& a) {
  auto it = obj.FindMember(rapidjson::Value(rapidjson::StringRef(key.data(), key.size())));
  if (it != obj.MemberEnd()) {
    it->value = value;
  } else {
    obj.AddMember(str(key, a), value, a);
  }
}

inline void remove_member(rapidjson::Value& obj, std::string_view key) {
  obj.RemoveMember(rapidjson::Value(rapidjson::StringRef(key.data(), key.size())));
}

}  // namespace haven::rooms::detail
