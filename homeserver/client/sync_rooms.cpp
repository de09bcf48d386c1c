#include "homeserver/client/sync_rooms.h"

#include <algorithm>

#include "homeserver/client/event_format.h"
#include "homeserver/e2ee/device_keys.h"
#include "homeserver/e2ee/device_lists.h"
#include "homeserver/e2ee/to_device.h"
#include "homeserver/push/push_rules.h"
#include "homeserver/rooms/stripped_state.h"
#include "homeserver/sync/streams.h"

namespace haven::client {

namespace {
constexpr size_t kMaxHeroes = 5;
}

SyncToken current_positions(ServerContext& ctx, storage::ReadTxn& txn) {
  SyncToken now;
  now.events = rooms::current_events_pos(txn);
  now.account_data = streams::account_data_pos(txn);
  now.receipts = streams::receipts_pos(txn);
  now.typing = ctx.typing ? ctx.typing->pos() : 0;
  now.presence = streams::presence_pos(txn);
  now.device_lists = e2ee::device_lists_pos(txn);
  now.to_device = e2ee::to_device_pos(txn);
  return now;
}

bool caught_up(const SyncToken& since, const SyncToken& now) {
  return since.events >= now.events && since.account_data >= now.account_data &&
         since.receipts >= now.receipts && since.typing >= now.typing &&
         since.presence >= now.presence && since.device_lists >= now.device_lists &&
         since.to_device >= now.to_device;
}

RoomTimeline read_timeline(storage::ReadTxn& txn, const Requester& who, const std::string& room_id,
                           const rooms::RoomAccess& access, uint64_t after_pos, uint64_t until_pos,
                           int64_t limit, const sync::RoomEventFilter* filter) {
  RoomTimeline t;
  rooms::scan_timeline(
      txn, room_id, until_pos, storage::Direction::kBackward,
      [&](uint64_t pos, std::string_view id) {
        if (pos <= after_pos) return false;
        auto ev = rooms::get_event(txn, std::string(id));
        if (!ev || !rooms::may_see_event(txn, who.user_id, *ev, access)) return true;
        if (filter && !sync::matches(*filter, ev->event->type(), ev->event->sender())) {
          return true;
        }
        if (static_cast<int64_t>(t.events.size()) >= limit) {
          t.limited = true;
          return false;
        }
        t.events.push_back(std::move(*ev));
        return true;
      });
  std::reverse(t.events.begin(), t.events.end());
  t.first_pos = t.events.empty() ? until_pos + 1 : t.events.front().pos;
  return t;
}

json::Value sync_events_json(storage::ReadTxn& txn, const Requester& who,
                             const std::vector<rooms::StoredEvent>& events, json::Alloc& a) {
  json::Value arr(rapidjson::kArrayType);
  for (auto& ev : events) arr.PushBack(format_event(txn, ev, who, a, EventFormat::kSync), a);
  return arr;
}

namespace {

// unsigned.invite_room_state of a stored invite from another server: the state events it
// sent (checked when the invite arrived).
const json::Value* remote_invite_state(const json::Value& pdu) {
  auto u = pdu.FindMember("unsigned");
  if (u == pdu.MemberEnd() || !u->value.IsObject()) return nullptr;
  auto list = u->value.FindMember("invite_room_state");
  if (list == u->value.MemberEnd() || !list->value.IsArray()) return nullptr;
  return &list->value;
}

}  // namespace

json::Value invite_state_events(storage::ReadTxn& txn, const Requester& who,
                                const std::string& room_id,
                                const std::optional<rooms::StoredEvent>& membership_event,
                                json::Alloc& a) {
  json::Value arr(rapidjson::kArrayType);
  auto strip = [&](const rooms::Event& ev) {
    json::Value s(rapidjson::kObjectType);
    json::set(s, "type", ev.type(), a);
    json::set(s, "state_key", ev.state_key().value_or(""), a);
    json::set(s, "sender", ev.sender(), a);
    json::Value content;
    content.CopyFrom(ev.content(), a);
    hide_member_identity(txn, who, ev, content, a);
    json::set(s, "content", std::move(content), a);
    arr.PushBack(std::move(s), a);
  };
  for (std::string_view type : rooms::kStrippedStateTypes) {
    if (auto ev = rooms::current_state_event(txn, room_id, type, ""); ev) strip(*ev);
  }
  if (membership_event && !rooms::get_room(txn, room_id)) {
    // An invite from another server into a room this server is not in: the state the
    // inviting server sent (full PDUs, or stripped ones from before spec v1.16), stripped.
    if (const json::Value* sent = remote_invite_state(membership_event->event->json())) {
      for (const auto& e : sent->GetArray()) {
        json::Value s = rooms::strip_event(e, a);
        if (s.MemberCount() != 0) arr.PushBack(std::move(s), a);
      }
    }
    strip(*membership_event->event);
    return arr;
  }
  if (membership_event) {
    const auto& sender = membership_event->event->sender();
    if (sender != who.user_id) {
      if (auto inviter = rooms::current_state_event(txn, room_id, "m.room.member", sender);
          inviter) {
        strip(*inviter);
      }
    }
    strip(*membership_event->event);
  }
  return arr;
}

MemberSummary member_summary(storage::ReadTxn& txn, const std::string& room_id,
                             const std::string& user_id) {
  MemberSummary s;
  for (auto& [user, m] : rooms::members_of_room(txn, room_id)) {
    if (m == "join") ++s.joined;
    if (m == "invite") ++s.invited;
    if (user == user_id) continue;
    if ((m == "join" || m == "invite") && s.heroes.size() < kMaxHeroes) s.heroes.push_back(user);
    if ((m == "leave" || m == "ban") && s.left_heroes.size() < kMaxHeroes) {
      s.left_heroes.push_back(user);
    }
  }
  return s;
}

json::Value unread_notifications(ServerContext& ctx, storage::ReadTxn& txn, const Requester& who,
                                 const std::string& room_id, json::Alloc& a) {
  uint64_t read_pos = 0;
  if (auto id = streams::own_read_receipt(txn, room_id, who.user_id); id) {
    if (auto ev = rooms::get_event(txn, *id); ev) read_pos = ev->pos;
  }
  auto room = rooms::get_room(txn, room_id);
  uint64_t last_pos = room ? room->last_pos : 0;
  auto counts = ctx.unread ? ctx.unread->get(txn, room_id, who.user_id, read_pos, last_pos)
                           : push::unread_counts(txn, room_id, who.user_id, read_pos);
  json::Value u(rapidjson::kObjectType);
  json::set(u, "notification_count", counts.notification_count, a);
  json::set(u, "highlight_count", counts.highlight_count, a);
  return u;
}

void set_device_key_counts(storage::ReadTxn& txn, const Requester& who, json::Value& obj,
                           json::Alloc& a) {
  json::Value otk_counts(rapidjson::kObjectType);
  for (auto& [algorithm, count] : e2ee::one_time_key_counts(txn, who.user_id, who.device_id)) {
    json::set(otk_counts, algorithm, count, a);
  }
  json::set(obj, "device_one_time_keys_count", std::move(otk_counts), a);
  json::Value fallback_types(rapidjson::kArrayType);
  for (auto& t : e2ee::unused_fallback_key_types(txn, who.user_id, who.device_id)) {
    fallback_types.PushBack(json::str(t, a), a);
  }
  json::set(obj, "device_unused_fallback_key_types", std::move(fallback_types), a);
}

json::Value device_lists_json(storage::ReadTxn& txn, const Requester& who, uint64_t since,
                              uint64_t since_events, json::Alloc& a, bool* empty) {
  json::Value changed(rapidjson::kArrayType), left(rapidjson::kArrayType);
  auto delta = e2ee::device_lists_since(txn, who.user_id, since, since_events);
  for (auto& u : delta.changed) changed.PushBack(json::str(u, a), a);
  for (auto& u : delta.left) left.PushBack(json::str(u, a), a);
  *empty = changed.Empty() && left.Empty();
  json::Value obj(rapidjson::kObjectType);
  json::set(obj, "changed", std::move(changed), a);
  json::set(obj, "left", std::move(left), a);
  return obj;
}

json::Value to_device_events_json(const std::vector<std::string>& texts, json::Alloc& a) {
  json::Value events(rapidjson::kArrayType);
  for (const std::string& text : texts) {
    json::Document event = json::parse_trusted(text);
    if (!event.IsObject()) continue;
    events.PushBack(json::Value(event, a), a);
  }
  return events;
}

void delete_acknowledged_to_device(ServerContext& ctx, const Requester& who, uint64_t since) {
  auto txn = ctx.store->begin_read();
  if (!txn) return;
  // Never beyond what exists: a token from the future must not swallow messages to come.
  uint64_t up_to = std::min(since, e2ee::to_device_pos(*txn));
  if (!e2ee::has_acknowledged_to_device(*txn, who.user_id, who.device_id, up_to)) return;
  txn.reset();
  ctx.store->submit(
      [user_id = who.user_id, device_id = who.device_id, up_to](storage::WriteTxn& w) {
        return e2ee::delete_acknowledged_to_device(w, user_id, device_id, up_to);
      },
      [](storage::Status) {});
}

}  // namespace haven::client
