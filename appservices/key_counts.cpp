#include "appservices/key_counts.h"

#include <set>

#include "homeserver/accounts/account_store.h"
#include "homeserver/base/json.h"
#include "homeserver/e2ee/device_keys.h"

namespace haven::appservice {

namespace {

constexpr size_t kMaxUsers = 1000;

// The service's users named by the items.
std::set<std::string> users_concerned(const AppService& service,
                                      const std::vector<QueuedItem>& items) {
  std::set<std::string> users;
  auto add = [&](const std::string& user) {
    if (!user.empty() && users.size() < kMaxUsers && service.is_interested_in_user(user)) {
      users.insert(user);
    }
  };
  for (const QueuedItem& item : items) {
    if (item.kind == ItemKind::kEphemeral || item.kind == ItemKind::kDeviceLists) continue;
    json::Document d = json::parse_trusted(item.json);
    if (!d.IsObject()) continue;
    if (item.kind == ItemKind::kToDevice) {
      add(json::get_string(d, "to_user_id"));
      continue;
    }
    add(json::get_string(d, "sender"));
    if (json::get_string(d, "type") == "m.room.member") add(json::get_string(d, "state_key"));
  }
  return users;
}

}  // namespace

std::string msc3202_key_counts(storage::ReadTxn& txn, const AppService& service,
                               const std::vector<QueuedItem>& items) {
  std::set<std::string> users = users_concerned(service, items);
  if (users.empty()) return "";
  json::Document d = json::object();
  auto& a = d.GetAllocator();
  json::Value counts(rapidjson::kObjectType), fallbacks(rapidjson::kObjectType);
  for (const std::string& user : users) {
    json::Value user_counts(rapidjson::kObjectType), user_fallbacks(rapidjson::kObjectType);
    for (const accounts::Device& device : accounts::list_devices(txn, user)) {
      json::Value by_algorithm(rapidjson::kObjectType);
      for (const auto& [algorithm, n] : e2ee::one_time_key_counts(txn, user, device.device_id)) {
        json::set(by_algorithm, algorithm, n, a);
      }
      json::set(user_counts, device.device_id, std::move(by_algorithm), a);
      json::Value types(rapidjson::kArrayType);
      for (const std::string& t : e2ee::unused_fallback_key_types(txn, user, device.device_id)) {
        types.PushBack(json::str(t, a), a);
      }
      json::set(user_fallbacks, device.device_id, std::move(types), a);
    }
    json::set(counts, user, std::move(user_counts), a);
    json::set(fallbacks, user, std::move(user_fallbacks), a);
  }
  json::set(d, "org.matrix.msc3202.device_one_time_keys_count", std::move(counts), a);
  json::set(d, "org.matrix.msc3202.device_unused_fallback_key_types", std::move(fallbacks), a);
  std::string text = json::to_string(d);
  return text.substr(1, text.size() - 2);
}

}  // namespace haven::appservice
