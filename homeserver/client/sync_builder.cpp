#include "homeserver/client/sync_builder.h"

#include <limits>
#include <set>

#include "homeserver/client/event_format.h"
#include "homeserver/client/sync_rooms.h"
#include "homeserver/e2ee/device_lists.h"
#include "homeserver/e2ee/to_device.h"
#include "homeserver/push/push_rules.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/room_access.h"
#include "homeserver/sync/streams.h"

namespace haven::client {

namespace {

constexpr int64_t kDefaultTimelineLimit = 10;
constexpr int64_t kMaxTimelineLimit = 100;
// To-device messages per response, as the spec recommends; the rest come with the next sync.
constexpr size_t kMaxToDevicePerSync = 100;

struct Builder {
  ServerContext& ctx;
  storage::ReadTxn& txn;
  const Requester& who;
  const SyncRequest& req;
  SyncToken now;
  json::Alloc& a;
  bool empty = true;

  uint64_t since_events() const { return req.since ? req.since->events : 0; }

  int64_t timeline_limit() const {
    auto l = req.filter.room.timeline.limit;
    return l ? std::clamp<int64_t>(*l, 0, kMaxTimelineLimit) : kDefaultTimelineLimit;
  }

  json::Value events_array(const std::vector<rooms::StoredEvent>& events) {
    return sync_events_json(txn, who, events, a);
  }

  using Timeline = RoomTimeline;
  Timeline timeline(const std::string& room_id, const rooms::RoomAccess& access, uint64_t after_pos,
                    uint64_t until_pos) {
    return read_timeline(txn, who, room_id, access, after_pos, until_pos, timeline_limit(),
                         &req.filter.room.timeline);
  }

  // State events to send with a timeline: the state just before it, or only what changed
  // since `since_pos` for a room the client already knows.
  json::Value state_for(const std::string& room_id, const Timeline& t, uint64_t fallback_group,
                        std::optional<uint64_t> since_pos) {
    uint64_t group =
        t.first_pos > 1 ? state_group_at_position(txn, room_id, t.first_pos - 1, 0) : 0;
    if (group == 0 && t.events.empty()) group = fallback_group;
    // A room joined over federation starts with the join, on the state the resident server
    // sent: the state before it is recorded with it.
    if (group == 0 && !t.events.empty()) {
      group = rooms::state_group_before(txn, t.events.front().event->event_id()).value_or(0);
    }
    auto ids = rooms::state_ids_at_group(txn, group);
    std::map<rooms::StateKey, std::string> known;
    if (since_pos)
      known = rooms::state_ids_at_group(txn, state_group_at_position(txn, room_id, *since_pos, 0));
    std::set<std::string> in_timeline;
    std::set<std::string> senders;
    for (auto& e : t.events) {
      in_timeline.insert(e.event->event_id());
      senders.insert(e.event->sender());
    }
    senders.insert(who.user_id);
    bool lazy = req.filter.room.state.lazy_load_members;
    json::Value arr(rapidjson::kArrayType);
    for (auto& [key, id] : ids) {
      if (in_timeline.count(id)) continue;
      if (auto k = known.find(key); k != known.end() && k->second == id) continue;
      if (lazy && key.first == "m.room.member" && !senders.count(key.second)) continue;
      if (!sync::matches(req.filter.room.state, key.first, "")) continue;
      if (auto ev = rooms::get_event(txn, id); ev) {
        arr.PushBack(format_event(txn, *ev, who, a, EventFormat::kSync), a);
      }
    }
    return arr;
  }

  json::Value summary(const std::string& room_id) {
    json::Value s(rapidjson::kObjectType);
    auto members = member_summary(txn, room_id, who.user_id);
    json::Value heroes(rapidjson::kArrayType);
    for (auto& user : members.heroes) heroes.PushBack(json::str(user, a), a);
    json::set(s, "m.heroes", std::move(heroes), a);
    json::set(s, "m.joined_member_count", members.joined, a);
    json::set(s, "m.invited_member_count", members.invited, a);
    return s;
  }

  json::Value ephemeral(const std::string& room_id, bool initial) {
    json::Value arr(rapidjson::kArrayType);
    if (ctx.typing) {
      if (auto t = ctx.typing->typing_since(room_id, initial ? 0 : req.since->typing); t) {
        json::Value v;
        v.CopyFrom(*t, a);
        arr.PushBack(std::move(v), a);
      }
    }
    if (auto r =
            streams::receipts_since(txn, room_id, initial ? 0 : req.since->receipts, who.user_id);
        r) {
      json::Value v;
      v.CopyFrom(*r, a);
      arr.PushBack(std::move(v), a);
    }
    return arr;
  }

  json::Value unread(const std::string& room_id) {
    return unread_notifications(ctx, txn, who, room_id, a);
  }

  json::Value account_data_events(std::vector<streams::Document>* events) {
    json::Value arr(rapidjson::kArrayType);
    if (!events) return arr;
    for (auto& e : *events) {
      json::Value v;
      v.CopyFrom(e, a);
      arr.PushBack(std::move(v), a);
    }
    return arr;
  }
};

}  // namespace

SyncResult build_sync(ServerContext& ctx, storage::ReadTxn& txn, const Requester& who,
                      const SyncRequest& request) {
  SyncResult result;
  result.body.SetObject();
  auto& a = result.body.GetAllocator();
  SyncToken now = current_positions(ctx, txn);
  // The device's inbox after the token. next_batch acknowledges what this response carries;
  // sync.cpp deletes acknowledged messages when the client presents it.
  auto inbox =
      e2ee::to_device_inbox(txn, who.user_id, who.device_id,
                            request.since ? request.since->to_device : 0, kMaxToDevicePerSync);
  now.to_device = inbox.next_pos;
  Builder b{ctx, txn, who, request, now, a};
  bool initial = !request.since;
  uint64_t since_events = b.since_events();
  auto account_data = streams::account_data_since(
      txn, who.user_id, initial || request.full_state ? 0 : request.since->account_data);

  json::Value join(rapidjson::kObjectType), invite(rapidjson::kObjectType),
      leave(rapidjson::kObjectType);
  for (auto& [room_id, m] : rooms::rooms_of_user(txn, who.user_id)) {
    if (!sync::room_allowed(request.filter.room, room_id)) continue;
    bool changed = initial || m.pos > since_events;
    auto room_ad = account_data.rooms.find(room_id);
    auto* room_ad_events = room_ad == account_data.rooms.end() ? nullptr : &room_ad->second;
    if (m.membership == "invite") {
      if (!changed && !request.full_state) continue;
      auto inv = rooms::get_event(txn, m.event_id);
      json::Value room(rapidjson::kObjectType), state(rapidjson::kObjectType);
      json::Value events = invite_state_events(txn, who, room_id, inv, a);
      json::set(state, "events", std::move(events), a);
      json::set(room, "invite_state", std::move(state), a);
      json::set(invite, room_id, std::move(room), a);
      continue;
    }
    if (m.membership != "join" && !rooms::get_room(txn, room_id)) {
      // A room the operator deleted: only the user's leave record is left (rooms/room_purge.h).
      // Tell the client once that it left, with nothing of the room's history.
      if (initial || !changed) continue;
      json::Value room(rapidjson::kObjectType), state(rapidjson::kObjectType),
          timeline(rapidjson::kObjectType);
      json::set(state, "events", json::Value(rapidjson::kArrayType), a);
      json::set(timeline, "events", json::Value(rapidjson::kArrayType), a);
      json::set(timeline, "limited", false, a);
      json::set(room, "state", std::move(state), a);
      json::set(room, "timeline", std::move(timeline), a);
      json::set(leave, room_id, std::move(room), a);
      continue;
    }
    auto access = rooms::room_access(txn, who.user_id, room_id);
    if (!access.ok()) continue;
    if (m.membership == "join") {
      bool fresh = changed || request.full_state;
      uint64_t after = fresh ? 0 : since_events;
      auto t = b.timeline(room_id, *access, after, now.events);
      json::Value eph = b.ephemeral(room_id, initial || fresh);
      // A room joined since the token gets all its account data: what was written while the
      // user was invited reached no sync (invited rooms carry none).
      std::vector<streams::Document> all_room_ad;
      if (!initial && m.pos > since_events) {
        all_room_ad = streams::room_account_data(txn, who.user_id, room_id);
        room_ad_events = &all_room_ad;
      }
      json::Value rad = b.account_data_events(room_ad_events);
      if (!fresh && t.events.empty() && eph.Empty() && rad.Empty()) continue;
      std::optional<uint64_t> known;
      if (!fresh && t.limited) known = since_events;
      json::Value room(rapidjson::kObjectType);
      json::Value state(rapidjson::kObjectType), timeline(rapidjson::kObjectType);
      json::Value state_events = fresh || t.limited
                                     ? b.state_for(room_id, t, access->state_group, known)
                                     : json::Value(rapidjson::kArrayType);
      json::set(state, "events", std::move(state_events), a);
      json::set(timeline, "events", b.events_array(t.events), a);
      json::set(timeline, "limited", t.limited, a);
      json::set(timeline, "prev_batch", topological_token(t.first_pos > 0 ? t.first_pos - 1 : 0),
                a);
      json::Value eph_obj(rapidjson::kObjectType), ad_obj(rapidjson::kObjectType);
      json::set(eph_obj, "events", std::move(eph), a);
      json::set(ad_obj, "events", std::move(rad), a);
      json::set(room, "state", std::move(state), a);
      json::set(room, "timeline", std::move(timeline), a);
      json::set(room, "ephemeral", std::move(eph_obj), a);
      json::set(room, "account_data", std::move(ad_obj), a);
      json::set(room, "unread_notifications", b.unread(room_id), a);
      // The summary only changes with membership: send it when the client may lack it.
      bool members_changed = std::any_of(t.events.begin(), t.events.end(), [](auto& e) {
        return e.event->type() == "m.room.member";
      });
      if (fresh || members_changed) json::set(room, "summary", b.summary(room_id), a);
      json::set(join, room_id, std::move(room), a);
      continue;
    }
    // leave or ban: once, when it happens (or on an initial sync that asks for left rooms).
    if (initial ? !request.filter.room.include_leave : !changed) continue;
    auto t = b.timeline(room_id, *access, initial ? 0 : since_events, access->until_pos);
    json::Value room(rapidjson::kObjectType), state(rapidjson::kObjectType),
        timeline(rapidjson::kObjectType), ad_obj(rapidjson::kObjectType);
    json::set(state, "events", b.state_for(room_id, t, access->state_group, std::nullopt), a);
    json::set(timeline, "events", b.events_array(t.events), a);
    json::set(timeline, "limited", t.limited, a);
    json::set(timeline, "prev_batch", topological_token(t.first_pos > 0 ? t.first_pos - 1 : 0), a);
    json::set(ad_obj, "events", b.account_data_events(room_ad_events), a);
    json::set(room, "state", std::move(state), a);
    json::set(room, "timeline", std::move(timeline), a);
    json::set(room, "account_data", std::move(ad_obj), a);
    json::set(leave, room_id, std::move(room), a);
  }

  bool rooms_empty = join.ObjectEmpty() && invite.ObjectEmpty() && leave.ObjectEmpty();
  json::Value rooms_obj(rapidjson::kObjectType);
  json::set(rooms_obj, "join", std::move(join), a);
  json::set(rooms_obj, "invite", std::move(invite), a);
  json::set(rooms_obj, "leave", std::move(leave), a);
  json::set(rooms_obj, "knock", json::Value(rapidjson::kObjectType), a);

  json::Value global_ad = b.account_data_events(&account_data.global);
  bool has_push_rules = std::any_of(
      account_data.global.begin(), account_data.global.end(),
      [](const streams::Document& e) { return json::get_string(e, "type") == "m.push_rules"; });
  if (initial && !has_push_rules) {
    auto rules = push::push_rules_account_data(txn, who.user_id);
    json::Value v;
    v.CopyFrom(rules, a);
    global_ad.PushBack(std::move(v), a);
  }
  uint64_t presence_since_pos = initial ? 0 : request.since->presence;
  std::vector<streams::Document> presence;
  if (now.presence > presence_since_pos) {
    std::set<std::string> visible = rooms::users_sharing_rooms(txn, who.user_id);
    presence = streams::presence_since(txn, presence_since_pos, visible, now_ms());
  }
  json::Value presence_events = b.account_data_events(&presence);

  result.empty = rooms_empty && global_ad.Empty() && presence_events.Empty();
  json::set(result.body, "next_batch", now.to_string(), a);
  json::set(result.body, "rooms", std::move(rooms_obj), a);
  json::Value ad_obj(rapidjson::kObjectType), pr_obj(rapidjson::kObjectType),
      td_obj(rapidjson::kObjectType), dl_obj(rapidjson::kObjectType);
  json::set(ad_obj, "events", std::move(global_ad), a);
  json::set(pr_obj, "events", std::move(presence_events), a);
  json::Value to_device_events = to_device_events_json(inbox.events, a);
  bool to_device_empty = to_device_events.Empty();
  json::set(td_obj, "events", std::move(to_device_events), a);
  bool device_lists_empty = true;
  if (!initial) {
    dl_obj = device_lists_json(txn, who, request.since->device_lists, request.since->events, a,
                               &device_lists_empty);
  } else {
    json::set(dl_obj, "changed", json::Value(rapidjson::kArrayType), a);
    json::set(dl_obj, "left", json::Value(rapidjson::kArrayType), a);
  }
  json::set(result.body, "account_data", std::move(ad_obj), a);
  json::set(result.body, "presence", std::move(pr_obj), a);
  json::set(result.body, "to_device", std::move(td_obj), a);
  json::set(result.body, "device_lists", std::move(dl_obj), a);
  set_device_key_counts(txn, who, result.body, a);
  result.empty = result.empty && device_lists_empty && to_device_empty;
  result.next = now;
  return result;
}

}  // namespace haven::client
