#include "homeserver/e2ee/key_query.h"

#include "homeserver/accounts/account_store.h"
#include "homeserver/e2ee/cross_signing.h"
#include "homeserver/e2ee/device_keys.h"

namespace haven::e2ee {

namespace {

json::Value copy_stored(std::string_view text, json::Alloc& a) {
  json::Document parsed = json::parse_trusted(text);
  return json::Value(parsed, a);
}

// Member `key` of `obj`, created as an empty object when absent.
json::Value& child(json::Value& obj, std::string_view key, json::Alloc& a) {
  auto it = obj.FindMember(json::Value(rapidjson::StringRef(key.data(), key.size())));
  if (it != obj.MemberEnd()) return it->value;
  json::set(obj, key, json::Value(rapidjson::kObjectType), a);
  return obj.FindMember(json::Value(rapidjson::StringRef(key.data(), key.size())))->value;
}

}  // namespace

json::Value local_device_keys(storage::ReadTxn& txn, const std::string& user_id,
                              const std::set<std::string>& devices, std::string_view viewer,
                              json::Alloc& a) {
  json::Value out(rapidjson::kObjectType);
  for (auto& [device_id, text] : device_keys_of_user(txn, user_id)) {
    if (!devices.empty() && !devices.count(device_id)) continue;
    auto device = accounts::get_device(txn, user_id, device_id);
    if (!device) continue;
    json::Value keys = copy_stored(text, a);
    if (!keys.IsObject()) continue;
    merge_signatures(txn, keys, a, user_id, device_id, viewer);
    if (!device->display_name.empty()) {
      json::set(child(keys, "unsigned", a), "device_display_name", device->display_name, a);
    }
    json::set(out, device_id, std::move(keys), a);
  }
  return out;
}

void add_local_cross_signing_keys(storage::ReadTxn& txn, json::Value& response,
                                  const std::string& user_id, std::string_view viewer,
                                  json::Alloc& a) {
  const char* usages[] = {"master", "self_signing", "user_signing"};
  const char* fields[] = {"master_keys", "self_signing_keys", "user_signing_keys"};
  for (int i = 0; i < 3; ++i) {
    if (i == 2 && user_id != viewer) continue;
    auto text = get_cross_signing_key(txn, user_id, usages[i]);
    if (!text) continue;
    json::Value key = copy_stored(*text, a);
    if (auto pub = cross_signing_public_key(key)) {
      merge_signatures(txn, key, a, user_id, pub->base64, viewer);
    }
    json::set(child(response, fields[i], a), user_id, std::move(key), a);
  }
}

}  // namespace haven::e2ee
