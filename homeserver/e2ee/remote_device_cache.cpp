#include "homeserver/e2ee/remote_device_cache.h"

namespace haven::e2ee {

using storage::Table;

namespace {

json::Document load(storage::ReadTxn& txn, std::string_view user_id) {
  auto v = txn.get(Table::kRemoteDeviceLists, user_id);
  if (!v) return json::Document(rapidjson::kNullType);
  return json::parse_trusted(*v);
}

void copy_member(json::Value& to, const char* to_key, const json::Value& from,
                 const char* from_key, json::Alloc& a) {
  auto it = from.FindMember(from_key);
  if (it == from.MemberEnd() || !it->value.IsObject()) return;
  json::Value copy;
  copy.CopyFrom(it->value, a);
  to.RemoveMember(to_key);
  json::set(to, to_key, std::move(copy), a);
}

}  // namespace

std::optional<json::Document> cached_device_list(storage::ReadTxn& txn,
                                                 std::string_view user_id) {
  auto doc = load(txn, user_id);
  if (!doc.IsObject() || json::get_bool(doc, "stale")) return std::nullopt;
  return doc;
}

storage::Status cache_device_list(storage::WriteTxn& txn, std::string_view user_id,
                                  const json::Value& answer) {
  auto doc = json::object();
  auto& a = doc.GetAllocator();
  json::set(doc, "stream_id", json::get_int(answer, "stream_id"), a);
  json::Value devices(rapidjson::kObjectType);
  if (auto it = answer.FindMember("devices"); it != answer.MemberEnd() && it->value.IsArray()) {
    for (const auto& d : it->value.GetArray()) {
      std::string device_id = d.IsObject() ? json::get_string(d, "device_id") : "";
      if (device_id.empty() || devices.HasMember(device_id.c_str())) continue;
      json::Value keys(rapidjson::kObjectType);
      if (auto k = d.FindMember("keys"); k != d.MemberEnd() && k->value.IsObject()) {
        keys.CopyFrom(k->value, a);
      }
      json::set(devices, device_id, std::move(keys), a);
    }
  }
  json::set(doc, "devices", std::move(devices), a);
  copy_member(doc, "master_key", answer, "master_key", a);
  copy_member(doc, "self_signing_key", answer, "self_signing_key", a);
  return txn.put(Table::kRemoteDeviceLists, user_id, json::to_string(doc));
}

UpdateOutcome apply_device_list_update(storage::WriteTxn& txn, std::string_view user_id,
                                       const json::Value& content, storage::Status* status) {
  *status = storage::Status::ok_status();
  auto doc = load(txn, user_id);
  if (!doc.IsObject()) return UpdateOutcome::kNeedsResync;
  auto& a = doc.GetAllocator();
  int64_t cached = json::get_int(doc, "stream_id");
  bool follows = false;
  if (auto p = content.FindMember("prev_id"); p != content.MemberEnd() && p->value.IsArray()) {
    for (const auto& id : p->value.GetArray()) follows |= id.IsInt64() && id.GetInt64() == cached;
    follows |= p->value.Empty() && cached == 0;
  }
  if (json::get_bool(doc, "stale") || !follows) {
    doc.RemoveMember("stale");
    json::set(doc, "stale", true, a);
    *status = txn.put(Table::kRemoteDeviceLists, user_id, json::to_string(doc));
    return UpdateOutcome::kNeedsResync;
  }
  std::string device_id = json::get_string(content, "device_id");
  auto& devices = doc["devices"];
  if (!device_id.empty() && devices.IsObject()) {
    devices.RemoveMember(device_id.c_str());
    if (!json::get_bool(content, "deleted")) {
      json::Value keys(rapidjson::kObjectType);
      if (auto k = content.FindMember("keys"); k != content.MemberEnd() && k->value.IsObject()) {
        keys.CopyFrom(k->value, a);
      }
      json::set(devices, device_id, std::move(keys), a);
    }
  }
  doc.RemoveMember("stream_id");
  json::set(doc, "stream_id", json::get_int(content, "stream_id"), a);
  *status = txn.put(Table::kRemoteDeviceLists, user_id, json::to_string(doc));
  return UpdateOutcome::kApplied;
}

storage::Status apply_signing_key_update(storage::WriteTxn& txn, std::string_view user_id,
                                         const json::Value& content) {
  auto doc = load(txn, user_id);
  if (!doc.IsObject()) return storage::Status::ok_status();  // nothing cached to keep fresh
  auto& a = doc.GetAllocator();
  copy_member(doc, "master_key", content, "master_key", a);
  copy_member(doc, "self_signing_key", content, "self_signing_key", a);
  return txn.put(Table::kRemoteDeviceLists, user_id, json::to_string(doc));
}

}  // namespace haven::e2ee
