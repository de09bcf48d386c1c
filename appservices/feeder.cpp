#include "appservices/feeder.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "appservices/interest.h"
#include "appservices/queue.h"
#include "homeserver/accounts/account_store.h"
#include "homeserver/base/json.h"
#include "homeserver/base/write.h"
#include "homeserver/e2ee/to_device.h"
#include "homeserver/rooms/client_format.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/room_details.h"

namespace haven::appservice {

namespace {

constexpr std::string_view kEventsCursor = "events";
constexpr size_t kMaxToDevicePerUser = 10'000;
// Per user: "to_device " + user id, the last to-device position copied to the service.
constexpr std::string_view kToDeviceCursorPrefix = "to_device ";

// The event as the transaction carries it: the client format, room id included.
std::string client_event_json(const rooms::StoredEvent& stored) {
  json::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  json::Value ev = rooms::to_client_event(*stored.event, a, true);
  json::Value unsig(rapidjson::kObjectType);
  json::set(ev, "unsigned", std::move(unsig), a);
  return json::to_string(ev);
}

// The to-device message as MSC2409 carries it: the event plus its addressee.
std::string to_device_json(const e2ee::TakenToDevice& m) {
  json::Document d = json::parse_trusted(m.event_json);
  if (!d.IsObject()) d.SetObject();
  auto& a = d.GetAllocator();
  json::set(d, "to_user_id", m.user_id, a);
  json::set(d, "to_device_id", m.device_id, a);
  return json::to_string(d);
}

}  // namespace

Status init_cursors(storage::WriteTxn& txn, const Registry& registry) {
  uint64_t now = rooms::current_events_pos(txn);
  for (const auto& s : registry.all()) {
    if (cursor(txn, s->id(), kEventsCursor)) continue;
    HAVEN_TRY(check(set_cursor(txn, s->id(), kEventsCursor, now)));
  }
  return {};
}

Result<bool> feed_events(storage::WriteTxn& txn, const Registry& registry, size_t limit) {
  bool more = false;
  for (const auto& service : registry.all()) {
    uint64_t from = cursor(txn, service->id(), kEventsCursor).value_or(0);
    std::vector<std::pair<std::string, std::string>> seen;  // (room_id, event_id)
    uint64_t last = from;
    rooms::scan_events_stream(txn, from, [&](uint64_t pos, std::string_view room_id,
                                             std::string_view event_id) {
      if (seen.size() >= limit) {
        more = true;
        return false;
      }
      seen.emplace_back(room_id, event_id);
      last = pos;
      return true;
    });
    std::map<std::string, std::unique_ptr<RoomScope>> scopes;
    for (const auto& [room_id, event_id] : seen) {
      auto stored = rooms::get_event(txn, event_id);
      if (!stored || !stored->event) continue;
      auto& scope = scopes[room_id];
      if (!scope) scope = std::make_unique<RoomScope>(txn, room_id);
      if (!scope->event_interests(*service, *stored->event)) continue;
      HAVEN_TRY(check(
          enqueue(txn, service->id(), ItemKind::kEvent, client_event_json(*stored), room_id)));
    }
    if (last != from) HAVEN_TRY(check(set_cursor(txn, service->id(), kEventsCursor, last)));
  }
  return more;
}

Status feed_to_device(storage::WriteTxn& txn, const Registry& registry,
                      const std::vector<std::string>& users) {
  for (const std::string& user : users) {
    const AppService* owner = nullptr;
    for (const auto& s : registry.all()) {
      if (s->registration().receive_ephemeral && s->is_interested_in_user(user)) {
        owner = s.get();
        break;
      }
    }
    if (!owner) continue;
    // A device with an access token of its own syncs; the service gets a copy of its messages.
    // A device the service made without one (MSC4190) is reached only through the service.
    std::set<std::string> service_devices;
    for (const accounts::Device& d : accounts::list_devices(txn, user)) {
      if (d.token_hash.empty()) service_devices.insert(d.device_id);
    }
    const std::string cursor_name = std::string(kToDeviceCursorPrefix) + user;
    uint64_t after = cursor(txn, owner->id(), cursor_name).value_or(0);
    storage::Status status;
    auto copied =
        e2ee::copy_to_device(txn, user, after, service_devices, kMaxToDevicePerUser, &status);
    HAVEN_TRY(check(status));
    for (const auto& m : copied) {
      HAVEN_TRY(check(enqueue(txn, owner->id(), ItemKind::kToDevice, to_device_json(m))));
      after = std::max(after, m.pos);
    }
    if (!copied.empty()) HAVEN_TRY(check(set_cursor(txn, owner->id(), cursor_name, after)));
  }
  return {};
}

std::vector<std::string> users_of_ephemeral_services(storage::ReadTxn& txn,
                                                     const Registry& registry) {
  std::vector<std::string> users;
  for (const std::string& user : accounts::all_user_ids(txn)) {
    for (const auto& s : registry.all()) {
      if (s->registration().receive_ephemeral && s->is_interested_in_user(user)) {
        users.push_back(user);
        break;
      }
    }
  }
  return users;
}

namespace {

// Presence concerns a service when the user is one of its own or shares a room with one.
bool presence_interests(storage::ReadTxn& txn, const AppService& service,
                        const std::string& user_id) {
  if (service.is_interested_in_user(user_id)) return true;
  for (const auto& [room_id, m] : rooms::rooms_of_user(txn, user_id)) {
    if (m.membership != "join") continue;
    for (const std::string& member : rooms::joined_members(txn, room_id)) {
      if (service.is_interested_in_user(member)) return true;
    }
  }
  return false;
}

}  // namespace

Status feed_ephemeral(storage::WriteTxn& txn, const Registry& registry, const Ephemeral& e) {
  std::unique_ptr<RoomScope> scope;
  if (!e.room_id.empty()) scope = std::make_unique<RoomScope>(txn, e.room_id);
  for (const auto& service : registry.all()) {
    if (!service->registration().receive_ephemeral) continue;
    bool wanted = false;
    if (e.type == "m.presence") {
      wanted = presence_interests(txn, *service, e.user_id);
    } else if (e.private_receipt) {
      wanted = service->is_interested_in_user(e.user_id);
    } else if (scope) {
      wanted = scope->room_interests(*service);
    }
    if (wanted) HAVEN_TRY(check(enqueue(txn, service->id(), ItemKind::kEphemeral, e.json)));
  }
  return {};
}

}  // namespace haven::appservice
