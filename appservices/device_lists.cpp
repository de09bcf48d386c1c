#include "appservices/device_lists.h"

#include <set>

#include "homeserver/accounts/account_store.h"
#include "homeserver/base/json.h"
#include "homeserver/base/write.h"
#include "homeserver/e2ee/device_lists.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/room_access.h"

namespace haven::appservice {

namespace {

constexpr std::string_view kDeviceListsCursor = "device_lists";
constexpr std::string_view kDeviceListsEventsCursor = "device_lists_events";

bool wants_device_lists(const AppService& s) {
  return s.registration().msc3202 && !s.registration().url.empty();
}

json::Value string_array(const std::set<std::string>& users, json::Alloc& a) {
  json::Value list(rapidjson::kArrayType);
  for (const auto& u : users) list.PushBack(json::str(u, a), a);
  return list;
}

std::string device_lists_json(const std::set<std::string>& changed,
                              const std::set<std::string>& left) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "changed", string_array(changed, a), a);
  json::set(d, "left", string_array(left, a), a);
  return json::to_string(d);
}

// The merged delta of every user of the service since the cursors. A user is "left" only when
// no user of the service shares a room with them any more.
void delta_for_service(storage::ReadTxn& txn, const AppService& service, uint64_t since,
                       uint64_t since_events, std::set<std::string>& changed,
                       std::set<std::string>& left) {
  std::vector<std::string> own;
  for (const std::string& user : accounts::all_user_ids(txn)) {
    if (service.is_interested_in_user(user)) own.push_back(user);
  }
  std::set<std::string> maybe_left;
  for (const std::string& user : own) {
    auto delta = e2ee::device_lists_since(txn, user, since, since_events);
    changed.insert(delta.changed.begin(), delta.changed.end());
    maybe_left.insert(delta.left.begin(), delta.left.end());
  }
  if (maybe_left.empty()) return;
  std::set<std::string> still_shared;
  for (const std::string& user : own) {
    auto sharing = rooms::users_sharing_rooms(txn, user);
    still_shared.insert(sharing.begin(), sharing.end());
  }
  for (const std::string& user : maybe_left) {
    if (!still_shared.count(user) && !changed.count(user)) left.insert(user);
  }
}

}  // namespace

Status init_device_list_cursors(storage::WriteTxn& txn, const Registry& registry) {
  const uint64_t lists = e2ee::device_lists_pos(txn);
  const uint64_t events = rooms::current_events_pos(txn);
  for (const auto& s : registry.all()) {
    if (!wants_device_lists(*s) || cursor(txn, s->id(), kDeviceListsCursor)) continue;
    HAVEN_TRY(check(set_cursor(txn, s->id(), kDeviceListsCursor, lists)));
    HAVEN_TRY(check(set_cursor(txn, s->id(), kDeviceListsEventsCursor, events)));
  }
  return {};
}

Status feed_device_lists(storage::WriteTxn& txn, const Registry& registry) {
  const uint64_t lists = e2ee::device_lists_pos(txn);
  const uint64_t events = rooms::current_events_pos(txn);
  for (const auto& s : registry.all()) {
    if (!wants_device_lists(*s)) continue;
    auto since = cursor(txn, s->id(), kDeviceListsCursor);
    auto since_events = cursor(txn, s->id(), kDeviceListsEventsCursor);
    if (!since || !since_events) continue;  // set by init_device_list_cursors at start
    if (*since == lists && *since_events == events) continue;
    std::set<std::string> changed, left;
    delta_for_service(txn, *s, *since, *since_events, changed, left);
    if (!changed.empty() || !left.empty()) {
      HAVEN_TRY(check(enqueue(txn, s->id(), ItemKind::kDeviceLists,
                              device_lists_json(changed, left))));
    }
    HAVEN_TRY(check(set_cursor(txn, s->id(), kDeviceListsCursor, lists)));
    HAVEN_TRY(check(set_cursor(txn, s->id(), kDeviceListsEventsCursor, events)));
  }
  return {};
}

std::string merge_device_lists(const std::vector<QueuedItem>& items) {
  std::set<std::string> changed, left;
  bool any = false;
  for (const QueuedItem& item : items) {
    if (item.kind != ItemKind::kDeviceLists) continue;
    any = true;
    json::Document d = json::parse_trusted(item.json);
    if (!d.IsObject()) continue;
    for (const char* key : {"changed", "left"}) {
      if (!d.HasMember(key) || !d[key].IsArray()) continue;
      for (const auto& v : d[key].GetArray()) {
        if (!v.IsString()) continue;
        std::string user(v.GetString(), v.GetStringLength());
        bool is_changed = std::string_view(key) == "changed";
        (is_changed ? changed : left).insert(user);
        (is_changed ? left : changed).erase(user);
      }
    }
  }
  if (!any) return {};
  return "\"org.matrix.msc3202.device_lists\":" + device_lists_json(changed, left);
}

}  // namespace haven::appservice
