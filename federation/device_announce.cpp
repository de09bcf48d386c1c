#include "federation/device_announce.h"

#include <map>
#include <optional>

#include "federation/destinations.h"
#include "homeserver/accounts/account_store.h"
#include "homeserver/e2ee/cross_signing.h"
#include "homeserver/e2ee/device_keys.h"

namespace haven::federation {

using storage::Table;

namespace {

// What other servers know of one device: its display name and keys, as a JSON object text.
struct DeviceView {
  std::string display_name;
  std::string keys_json;  // signed device keys with the user's own signatures; "" if none
  std::string text() const { return display_name + '\n' + keys_json; }
};

std::map<std::string, DeviceView> current_devices(storage::ReadTxn& txn,
                                                  const std::string& user_id) {
  std::map<std::string, DeviceView> out;
  for (const auto& device : accounts::list_devices(txn, user_id)) {
    DeviceView view{device.display_name, {}};
    if (auto keys = e2ee::get_device_keys(txn, user_id, device.device_id)) {
      auto doc = json::parse_trusted(*keys);
      if (doc.IsObject()) {
        e2ee::merge_signatures(txn, doc, doc.GetAllocator(), user_id, device.device_id, user_id);
        view.keys_json = json::to_string(doc);
      }
    }
    out.emplace(device.device_id, std::move(view));
  }
  return out;
}

// A cross-signing key as announced: with the user's own signatures on it; "" if none.
std::string cross_signing_text(storage::ReadTxn& txn, const std::string& user_id,
                               const char* usage) {
  auto text = e2ee::get_cross_signing_key(txn, user_id, usage);
  if (!text) return {};
  auto doc = json::parse_trusted(*text);
  if (!doc.IsObject()) return {};
  if (auto pub = e2ee::cross_signing_public_key(doc)) {
    e2ee::merge_signatures(txn, doc, doc.GetAllocator(), user_id, pub->base64, user_id);
  }
  return json::to_string(doc);
}

void set_json_text(json::Value& obj, const char* key, const std::string& text, json::Alloc& a) {
  auto parsed = json::parse_trusted(text);
  json::Value v;
  v.CopyFrom(parsed, a);
  json::set(obj, key, std::move(v), a);
}

std::string device_update(const std::string& user_id, const std::string& device_id,
                          const DeviceView* device, uint64_t stream_id, uint64_t prev_id) {
  auto doc = json::object();
  auto& a = doc.GetAllocator();
  json::set(doc, "user_id", user_id, a);
  json::set(doc, "device_id", device_id, a);
  json::set(doc, "stream_id", static_cast<int64_t>(stream_id), a);
  json::Value prev(rapidjson::kArrayType);
  if (prev_id > 0) prev.PushBack(static_cast<int64_t>(prev_id), a);
  json::set(doc, "prev_id", std::move(prev), a);
  if (!device) {
    json::set(doc, "deleted", true, a);
  } else {
    if (!device->display_name.empty()) {
      json::set(doc, "device_display_name", device->display_name, a);
    }
    if (!device->keys_json.empty()) set_json_text(doc, "keys", device->keys_json, a);
  }
  return json::to_string(doc);
}

}  // namespace

uint64_t announced_stream_id(storage::ReadTxn& txn, const std::string& user_id) {
  auto v = txn.get(Table::kFedDevicesAnnounced, user_id);
  if (!v) return 0;
  auto doc = json::parse_trusted(*v);
  return doc.IsObject() ? static_cast<uint64_t>(json::get_int(doc, "stream_id")) : 0;
}

storage::Status queue_device_list_updates(storage::WriteTxn& txn, const rooms::Outbound& outbound,
                                          const std::string& own_server,
                                          const std::string& user_id) {
  auto before = json::parse_trusted(txn.get(Table::kFedDevicesAnnounced, user_id).value_or("{}"));
  if (!before.IsObject()) before.SetObject();
  uint64_t stream_id = static_cast<uint64_t>(json::get_int(before, "stream_id"));
  std::map<std::string, DeviceView> now = current_devices(txn, user_id);
  std::map<std::string, std::string> announced;
  if (auto it = before.FindMember("devices"); it != before.MemberEnd() && it->value.IsObject()) {
    for (const auto& m : it->value.GetObject()) {
      if (m.value.IsString()) announced[m.name.GetString()] = m.value.GetString();
    }
  }
  std::set<std::string> servers = servers_sharing_rooms(txn, user_id, own_server);
  auto queue_all = [&](std::string_view type, const std::string& content) {
    for (const auto& server : servers) {
      if (auto s = outbound.queue_edu(txn, server, type, content); !s.ok()) return s;
    }
    return storage::Status::ok_status();
  };
  auto announce = [&](const std::string& device_id, const DeviceView* device) {
    uint64_t prev = stream_id;
    ++stream_id;
    return queue_all("m.device_list_update",
                     device_update(user_id, device_id, device, stream_id, prev));
  };
  for (const auto& [device_id, device] : now) {
    auto it = announced.find(device_id);
    if (it != announced.end() && it->second == device.text()) continue;
    if (auto s = announce(device_id, &device); !s.ok()) return s;
  }
  for (const auto& [device_id, text] : announced) {
    if (now.count(device_id)) continue;
    if (auto s = announce(device_id, nullptr); !s.ok()) return s;
  }
  std::string master = cross_signing_text(txn, user_id, "master");
  std::string self_signing = cross_signing_text(txn, user_id, "self_signing");
  if (master != json::get_string(before, "master") ||
      self_signing != json::get_string(before, "self_signing")) {
    auto doc = json::object();
    auto& a = doc.GetAllocator();
    json::set(doc, "user_id", user_id, a);
    if (!master.empty()) set_json_text(doc, "master_key", master, a);
    if (!self_signing.empty()) set_json_text(doc, "self_signing_key", self_signing, a);
    if (auto s = queue_all("m.signing_key_update", json::to_string(doc)); !s.ok()) return s;
  }
  auto after = json::object();
  auto& a = after.GetAllocator();
  json::set(after, "stream_id", static_cast<int64_t>(stream_id), a);
  json::Value devices(rapidjson::kObjectType);
  for (const auto& [device_id, device] : now) json::set(devices, device_id, device.text(), a);
  json::set(after, "devices", std::move(devices), a);
  json::set(after, "master", master, a);
  json::set(after, "self_signing", self_signing, a);
  return txn.put(Table::kFedDevicesAnnounced, user_id, json::to_string(after));
}

}  // namespace haven::federation
