#include "homeserver/client/sliding_builder.h"

#include <algorithm>
#include <limits>
#include <set>

#include "homeserver/client/event_format.h"
#include "homeserver/client/sync_rooms.h"
#include "homeserver/e2ee/device_lists.h"
#include "homeserver/e2ee/to_device.h"
#include "homeserver/push/push_rules.h"
#include "homeserver/rooms/room_access.h"
#include "homeserver/sync/sliding_room_list.h"
#include "homeserver/sync/streams.h"

namespace haven::client {

namespace {

using sync::ConnectionState;
using sync::RoomConfig;
using sync::RoomListEntry;
using sync::SentRoom;
using StateIds = std::map<rooms::StateKey, std::string>;

// How far back bump_stamp looks for a "proper" activity event before settling for the membership.
constexpr int kMaxBumpScan = 500;

bool is_bump_type(std::string_view type) {
  return type == "m.room.create" || type == "m.room.message" || type == "m.room.encrypted" ||
         type == "m.sticker" || type == "m.call.invite" || type == "m.poll.start" ||
         type == "m.beacon_info" || type == "org.matrix.msc3381.poll.start";
}

bool is_stripped_membership(std::string_view membership) {
  return membership == "invite" || membership == "knock";
}

// A room the request matches: its combined config and the rules that matched it.
struct Wanted {
  const RoomListEntry* entry = nullptr;
  RoomConfig config;
  std::vector<std::string> lists;
  bool subscribed = false;
  bool has_config = false;

  void add(const RoomConfig& c) {
    if (has_config) {
      config.combine(c);
    } else {
      config = c;
      has_config = true;
    }
  }
};

struct Builder {
  ServerContext& ctx;
  storage::ReadTxn& txn;
  const Requester& who;
  const sync::SlidingRequest& req;
  const ConnectionState* base;
  json::Alloc& a;
  SyncToken now;
  std::shared_ptr<sync::ConnectionState> next = std::make_shared<sync::ConnectionState>();
  std::shared_ptr<sync::SentRooms> rooms_copy;  // made on the first change to the sent rooms
  std::vector<std::shared_ptr<const RoomConfig>> configs;  // each distinct config once
  std::map<std::string, Wanted> wanted;
  std::set<std::string> initial_rooms;  // sent as new this time: extensions start from 0
  sync::ListFilterCheck filter_check;
  bool empty = true;

  Builder(ServerContext& c, storage::ReadTxn& t, const Requester& w, const sync::SlidingRequest& r,
          const ConnectionState* b, json::Alloc& alloc)
      : ctx(c), txn(t), who(w), req(r), base(b), a(alloc), filter_check(t, w.user_id) {}

  const sync::SentRooms& sent_rooms() const { return *next->rooms; }

  sync::SentRooms& writable_rooms() {
    if (!rooms_copy) {
      rooms_copy = std::make_shared<sync::SentRooms>(*next->rooms);
      next->rooms = rooms_copy;
    }
    return *rooms_copy;
  }

  std::shared_ptr<const RoomConfig> intern(const RoomConfig& c) {
    for (auto& known : configs) {
      if (*known == c) return known;
    }
    configs.push_back(std::make_shared<const RoomConfig>(c));
    return configs.back();
  }

  void record_sent(const std::string& room_id, uint64_t pos, uint64_t bump,
                   const RoomConfig& config, const std::string& membership) {
    const SentRoom* old = find_sent(room_id);
    auto shared = old && old->config && *old->config == config ? old->config : intern(config);
    writable_rooms()[room_id] = SentRoom{pos, bump, std::move(shared), membership};
  }

  const SentRoom* find_sent(const std::string& room_id) const {
    auto it = sent_rooms().find(room_id);
    return it == sent_rooms().end() ? nullptr : &it->second;
  }

  uint64_t since_events() const {
    return base ? base->streams.events : std::numeric_limits<uint64_t>::max();
  }

  // --- lists and subscriptions --------------------------------------------------------------

  json::Value build_lists(const std::vector<RoomListEntry>& list) {
    json::Value lists(rapidjson::kObjectType);
    for (auto& [name, config] : req.lists) {
      std::vector<const RoomListEntry*> filtered;
      for (auto& e : list) {
        if (filter_check.passes(config.filters, e)) filtered.push_back(&e);
      }
      json::Value out(rapidjson::kObjectType), ops(rapidjson::kArrayType);
      json::set(out, "count", static_cast<int64_t>(filtered.size()), a);
      auto ranges = config.ranges.value_or(std::vector<std::pair<uint64_t, uint64_t>>{
          {0, filtered.empty() ? 0 : filtered.size() - 1}});
      for (auto [start, end] : ranges) ops.PushBack(window(name, config, filtered, start, end), a);
      json::set(out, "ops", std::move(ops), a);
      json::set(lists, name, std::move(out), a);
      next->list_counts[name] = filtered.size();
      auto old = base ? base->list_counts.find(name) : next->list_counts.end();
      if (!base || old == base->list_counts.end() || old->second != filtered.size()) empty = false;
    }
    return lists;
  }

  // One range of a list: the rooms in it join `wanted`; the SYNC op names them in order.
  json::Value window(const std::string& name, const sync::ListConfig& config,
                     const std::vector<const RoomListEntry*>& filtered, uint64_t start,
                     uint64_t end) {
    json::Value op(rapidjson::kObjectType), range(rapidjson::kArrayType),
        ids(rapidjson::kArrayType);
    json::set(op, "op", "SYNC", a);
    range.PushBack(static_cast<int64_t>(start), a).PushBack(static_cast<int64_t>(end), a);
    json::set(op, "range", std::move(range), a);
    for (uint64_t i = start; i <= end && i < filtered.size(); ++i) {
      const RoomListEntry* e = filtered[i];
      ids.PushBack(json::str(e->room_id, a), a);
      Wanted& w = wanted[e->room_id];
      w.entry = e;
      w.add(config.room);
      if (std::find(w.lists.begin(), w.lists.end(), name) == w.lists.end()) w.lists.push_back(name);
    }
    json::set(op, "room_ids", std::move(ids), a);
    return op;
  }

  void merge_subscriptions() {
    if (base) next->subscriptions = base->subscriptions;
    for (auto& room_id : req.unsubscribe_rooms) next->subscriptions.erase(room_id);
    for (auto& [room_id, config] : req.room_subscriptions) next->subscriptions[room_id] = config;
    // Sticky subscriptions stay bounded: the oldest room ids beyond the cap that this request
    // did not name go first.
    for (auto it = next->subscriptions.begin();
         next->subscriptions.size() > sync::kMaxRoomSubscriptions &&
         it != next->subscriptions.end();) {
      it = req.room_subscriptions.count(it->first) ? std::next(it) : next->subscriptions.erase(it);
    }
  }

  void add_subscriptions(const std::map<std::string, const RoomListEntry*>& by_id) {
    for (auto& [room_id, config] : next->subscriptions) {
      auto it = by_id.find(room_id);
      if (it == by_id.end()) continue;  // not the user's room: ignored, as the MSC says
      Wanted& w = wanted[room_id];
      w.entry = it->second;
      w.add(config);
      w.subscribed = true;
    }
  }

  // --- one room ---------------------------------------------------------------------------

  uint64_t bump_stamp(const RoomListEntry& e, uint64_t until) {
    if (e.membership != "join") return e.membership_pos;
    uint64_t found = 0;
    int scanned = 0;
    rooms::scan_timeline(txn, e.room_id, until, storage::Direction::kBackward,
                         [&](uint64_t pos, std::string_view id) {
                           auto ev = rooms::get_event(txn, std::string(id));
                           if (ev && is_bump_type(ev->event->type())) {
                             found = pos;
                             return false;
                           }
                           return ++scanned < kMaxBumpScan;
                         });
    return found ? found : e.membership_pos;
  }

  void set_common(json::Value& room, const Wanted& w, bool initial, const std::string& membership,
                  const SentRoom* sent) {
    if (initial) json::set(room, "initial", true, a);
    if (initial || !sent || sent->membership != membership) {
      json::set(room, "membership", membership, a);
    }
    if (!w.lists.empty()) {
      json::Value lists(rapidjson::kArrayType);
      for (auto& l : w.lists) lists.PushBack(json::str(l, a), a);
      json::set(room, "lists", std::move(lists), a);
    }
    if (initial && filter_check.is_dm(w.entry->room_id)) json::set(room, "is_dm", true, a);
  }

  std::optional<json::Value> invite_room(const Wanted& w, const SentRoom* sent) {
    const RoomListEntry& e = *w.entry;
    if (sent && sent->membership == e.membership && sent->pos >= e.membership_pos) {
      return std::nullopt;
    }
    json::Value room(rapidjson::kObjectType);
    set_common(room, w, true, e.membership, sent);
    json::set(room, "bump_stamp", static_cast<int64_t>(e.membership_pos), a);
    auto membership_event = rooms::get_event(txn, e.membership_event_id);
    json::Value stripped = invite_state_events(txn, who, e.room_id, membership_event, a);
    json::Value copy;
    copy.CopyFrom(stripped, a);
    json::set(room, "invite_state", std::move(stripped), a);  // as deployed clients read it
    json::set(room, "stripped_state", std::move(copy), a);    // as the MSC names it now
    record_sent(e.room_id, e.membership_pos, e.membership_pos, w.config, e.membership);
    return room;
  }

  std::optional<json::Value> deleted_room(const Wanted& w, const SentRoom* sent) {
    if (!sent || sent->membership == "leave") return std::nullopt;
    json::Value room(rapidjson::kObjectType);
    json::set(room, "membership", "leave", a);
    record_sent(w.entry->room_id, sent->pos, sent->bump_stamp, w.config, "leave");
    return room;
  }

  // Everyone whose membership a lazy-loading client needs for these events.
  static std::set<std::string> lazy_users(const RoomTimeline& t) {
    std::set<std::string> users;
    for (auto& e : t.events) {
      users.insert(e.event->sender());
      if (e.event->type() == "m.room.member" && e.event->state_key()) {
        users.insert(*e.event->state_key());
      }
    }
    return users;
  }

  struct StateOut {
    json::Value events{rapidjson::kArrayType};
    bool name_changed = false, avatar_changed = false, members_changed = false;
  };

  // required_state: all matching state for a new room; else what changed since `sent` (and
  // what the config newly asks for), plus the members the timeline needs when lazy-loading.
  StateOut required_state(const StateIds& ids, const std::optional<StateIds>& old_ids,
                          const RoomConfig& config, const RoomConfig* old_config,
                          const RoomTimeline& t) {
    StateOut out;
    bool lazy = config.lazy_members();
    std::set<std::string> needed = lazy ? lazy_users(t) : std::set<std::string>{};
    for (auto& [key, id] : ids) {
      bool changed = !old_ids;
      if (old_ids) {
        auto o = old_ids->find(key);
        changed = o == old_ids->end() || o->second != id;
      }
      if (changed && key.first == "m.room.name") out.name_changed = true;
      if (changed && key.first == "m.room.avatar") out.avatar_changed = true;
      if (changed && key.first == "m.room.member") out.members_changed = true;
      bool matches = config.matches(key.first, key.second, who.user_id);
      bool newly_asked =
          matches && old_config && !old_config->matches(key.first, key.second, who.user_id);
      bool send = (changed && matches) || newly_asked;
      if (lazy && key.first == "m.room.member" && !send) {
        send = needed.count(key.second) > 0 || (changed && old_ids && !t.limited);
      }
      if (!send) continue;
      if (auto ev = rooms::get_event(txn, id); ev) {
        out.events.PushBack(format_event(txn, *ev, who, a, EventFormat::kSync), a);
      }
    }
    return out;
  }

  std::optional<std::string> state_string(const StateIds& ids, const char* type,
                                          const char* field) {
    auto it = ids.find({type, ""});
    if (it == ids.end()) return std::nullopt;
    auto ev = rooms::get_event(txn, it->second);
    if (!ev) return std::nullopt;
    std::string value = json::get_string(ev->event->content(), field);
    if (value.empty()) return std::nullopt;
    return value;
  }

  // Heroes with the display name and avatar their member event gives, as the care rules let
  // the viewer see them.
  json::Value heroes(const std::vector<std::string>& users, const StateIds& ids) {
    json::Value out(rapidjson::kArrayType);
    for (auto& user : users) {
      json::Value hero(rapidjson::kObjectType);
      json::set(hero, "user_id", user, a);
      auto it = ids.find({"m.room.member", user});
      if (it != ids.end()) {
        if (auto ev = rooms::get_event(txn, it->second); ev) {
          json::Value content;
          content.CopyFrom(ev->event->content(), a);
          hide_member_identity(txn, who, *ev->event, content, a);
          if (auto n = json::get_string(content, "displayname"); !n.empty()) {
            json::set(hero, "displayname", n, a);
          }
          if (auto u = json::get_string(content, "avatar_url"); !u.empty()) {
            json::set(hero, "avatar_url", u, a);
          }
        }
      }
      out.PushBack(std::move(hero), a);
    }
    return out;
  }

  void set_names(json::Value& room, const std::string& room_id, const StateIds& ids,
                 const StateOut& state, bool initial) {
    auto name = state_string(ids, "m.room.name", "name");
    if (initial || state.name_changed) {
      if (name) {
        json::set(room, "name", *name, a);
      } else if (!initial) {
        json::set(room, "name", json::Value(rapidjson::kNullType), a);
      }
    }
    if (initial || state.avatar_changed) {
      auto avatar = state_string(ids, "m.room.avatar", "url");
      if (avatar) {
        json::set(room, "avatar", *avatar, a);
      } else if (!initial) {
        json::set(room, "avatar", json::Value(rapidjson::kNullType), a);
      }
    }
    if (!initial && !state.members_changed && !state.name_changed) return;
    auto members = member_summary(txn, room_id, who.user_id);
    json::set(room, "joined_count", members.joined, a);
    json::set(room, "invited_count", members.invited, a);
    if (!name) {
      const auto& users = members.heroes.empty() ? members.left_heroes : members.heroes;
      json::set(room, "heroes", heroes(users, ids), a);
    }
  }

  struct TimelineOut {
    RoomTimeline t;
    bool expanded = false;
  };

  TimelineOut timeline(const RoomListEntry& e, const rooms::RoomAccess& access, uint64_t until,
                       const RoomConfig& config, const SentRoom* sent, bool initial) {
    TimelineOut out;
    int64_t limit = config.timeline_limit;
    if (initial) {
      out.t = read_timeline(txn, who, e.room_id, access, 0, until, limit, nullptr);
      return out;
    }
    bool grew = sent->config && limit > sent->config->timeline_limit;
    if (until > sent->pos) {
      out.t = read_timeline(txn, who, e.room_id, access, sent->pos, until, limit, nullptr);
      if (!grew || out.t.limited || static_cast<int64_t>(out.t.events.size()) >= limit) return out;
    } else if (!grew) {
      out.t.first_pos = until + 1;
      return out;
    }
    // The limit grew: the client may lack older events it now asks for.
    out.t = read_timeline(txn, who, e.room_id, access, 0, until, limit, nullptr);
    out.expanded = !out.t.events.empty() && out.t.events.front().pos <= sent->pos;
    return out;
  }

  std::optional<json::Value> member_room(const Wanted& w, const SentRoom* sent) {
    const RoomListEntry& e = *w.entry;
    bool initial = !sent || (sent->membership != e.membership && e.membership == "join");
    uint64_t until = e.activity_pos;
    bool config_changed = sent && (!sent->config || !(*sent->config == w.config));
    if (!initial && until <= sent->pos && !config_changed) return std::nullopt;
    auto access = rooms::room_access(txn, who.user_id, e.room_id);
    if (!access.ok()) return std::nullopt;

    TimelineOut tl = timeline(e, *access, until, w.config, sent, initial);
    const RoomTimeline& t = tl.t;
    auto ids = rooms::state_ids_at_group(txn, access->state_group);
    std::optional<StateIds> old_ids;
    if (!initial) {
      old_ids = rooms::state_ids_at_group(
          txn, state_group_at_position(txn, e.room_id, sent->pos, access->state_group));
    }
    StateOut state =
        required_state(ids, old_ids, w.config, initial ? nullptr : sent->config.get(), t);
    uint64_t bump = bump_stamp(e, until);
    bool membership_changed = sent && sent->membership != e.membership;
    if (!initial && t.events.empty() && state.events.Empty() && !membership_changed) {
      // Only the config changed, and it asks for nothing new: remember it, send nothing.
      record_sent(e.room_id, sent->pos, sent->bump_stamp, w.config, sent->membership);
      return std::nullopt;
    }
    json::Value room(rapidjson::kObjectType);
    set_common(room, w, initial, e.membership, sent);
    set_names(room, e.room_id, ids, state, initial);
    if (initial || bump != sent->bump_stamp) {
      json::set(room, "bump_stamp", static_cast<int64_t>(bump), a);
    }
    if (!state.events.Empty()) json::set(room, "required_state", std::move(state.events), a);
    set_timeline(room, tl, initial);
    if (e.membership == "join") {
      json::Value counts = unread_notifications(ctx, txn, who, e.room_id, a);
      for (auto& m : counts.GetObject()) json::set(room, m.name.GetString(), std::move(m.value), a);
    }
    record_sent(e.room_id, std::max(until, sent && !initial ? sent->pos : 0), bump, w.config,
                e.membership);
    if (initial) initial_rooms.insert(e.room_id);
    return room;
  }

  void set_timeline(json::Value& room, const TimelineOut& tl, bool initial) {
    const RoomTimeline& t = tl.t;
    int64_t live = 0;
    for (auto& ev : t.events) live += ev.pos > since_events() ? 1 : 0;
    if (!t.events.empty()) json::set(room, "timeline", sync_events_json(txn, who, t.events, a), a);
    if (!t.events.empty() || initial) {
      json::set(room, "prev_batch", topological_token(t.first_pos > 0 ? t.first_pos - 1 : 0), a);
    }
    // An expanded timeline replaces what the client holds rather than following it: limited
    // tells clients that do not know expanded_timeline to merge it as a gap, not append it.
    json::set(room, "limited", t.limited || tl.expanded, a);
    json::set(room, "num_live", live, a);
    if (tl.expanded) {
      json::set(room, "expanded_timeline", true, a);
      json::set(room, "unstable_expanded_timeline", true, a);
    }
  }

  json::Value build_rooms() {
    json::Value rooms(rapidjson::kObjectType);
    for (auto& [room_id, w] : wanted) {
      const SentRoom* sent = find_sent(room_id);
      std::optional<json::Value> room;
      if (w.entry->room_gone) {
        room = deleted_room(w, sent);
      } else if (is_stripped_membership(w.entry->membership) ||
                 (sent && is_stripped_membership(sent->membership) &&
                  w.entry->membership != "join")) {
        // Invites, knocks, and their rejection or withdrawal: the user never joined, so stripped
        // state is all they may see.
        room = invite_room(w, sent);
      } else {
        room = member_room(w, sent);
      }
      if (room) json::set(rooms, room_id, std::move(*room), a);
    }
    if (!rooms.ObjectEmpty()) empty = false;
    return rooms;
  }

  // --- extensions -------------------------------------------------------------------------

  // Whether an extension with these settings covers the room (through a list or subscription).
  bool covers(const sync::ExtensionConfig& ext, const Wanted& w) const {
    if (w.subscribed && ext.covers_room(w.entry->room_id)) return true;
    return std::any_of(w.lists.begin(), w.lists.end(),
                       [&](const std::string& l) { return ext.covers_list(l); });
  }

  json::Value to_device_extension() {
    uint64_t since = req.to_device.since.value_or(0);
    auto inbox = e2ee::to_device_inbox(txn, who.user_id, who.device_id, since, req.to_device.limit);
    json::Value out(rapidjson::kObjectType);
    json::set(out, "next_batch", std::to_string(inbox.next_pos), a);
    json::Value events = to_device_events_json(inbox.events, a);
    if (!events.Empty()) empty = false;
    json::set(out, "events", std::move(events), a);
    return out;
  }

  json::Value e2ee_extension() {
    json::Value out(rapidjson::kObjectType);
    set_device_key_counts(txn, who, out, a);
    if (base) {
      bool lists_empty = true;
      json::Value lists = device_lists_json(txn, who, base->streams.device_lists,
                                            base->streams.events, a, &lists_empty);
      if (!lists_empty) empty = false;
      json::set(out, "device_lists", std::move(lists), a);
    }
    return out;
  }

  static void copy_events(std::vector<streams::Document>& from, json::Value& to, json::Alloc& a) {
    for (auto& e : from) {
      json::Value v;
      v.CopyFrom(e, a);
      to.PushBack(std::move(v), a);
    }
  }

  json::Value account_data_extension() {
    auto delta =
        streams::account_data_since(txn, who.user_id, base ? base->streams.account_data : 0);
    json::Value global(rapidjson::kArrayType);
    copy_events(delta.global, global, a);
    bool has_push_rules = std::any_of(
        delta.global.begin(), delta.global.end(),
        [](const streams::Document& e) { return json::get_string(e, "type") == "m.push_rules"; });
    if (!base && !has_push_rules) {
      json::Value rules;
      rules.CopyFrom(push::push_rules_account_data(txn, who.user_id), a);
      global.PushBack(std::move(rules), a);
    }
    json::Value rooms(rapidjson::kObjectType);
    for (auto& [room_id, w] : wanted) {
      if (!covers(req.account_data, w) || is_stripped_membership(w.entry->membership)) continue;
      std::vector<streams::Document> all;
      std::vector<streams::Document>* events = nullptr;
      if (initial_rooms.count(room_id)) {
        all = streams::room_account_data(txn, who.user_id, room_id);
        events = &all;
      } else if (auto it = delta.rooms.find(room_id); it != delta.rooms.end()) {
        events = &it->second;
      }
      if (!events || events->empty()) continue;
      json::Value arr(rapidjson::kArrayType);
      copy_events(*events, arr, a);
      json::set(rooms, room_id, std::move(arr), a);
    }
    if (!global.Empty() || !rooms.ObjectEmpty()) empty = false;
    json::Value out(rapidjson::kObjectType);
    json::set(out, "global", std::move(global), a);
    json::set(out, "rooms", std::move(rooms), a);
    return out;
  }

  json::Value receipts_extension() {
    json::Value rooms(rapidjson::kObjectType);
    uint64_t since = base ? base->streams.receipts : 0;
    for (auto& [room_id, w] : wanted) {
      if (!covers(req.receipts, w) || w.entry->membership != "join") continue;
      bool fresh = initial_rooms.count(room_id) > 0;
      if (!fresh && now.receipts <= since) continue;
      if (auto r = streams::receipts_since(txn, room_id, fresh ? 0 : since, who.user_id); r) {
        json::Value v;
        v.CopyFrom(*r, a);
        json::set(rooms, room_id, std::move(v), a);
      }
    }
    if (!rooms.ObjectEmpty()) empty = false;
    json::Value out(rapidjson::kObjectType);
    json::set(out, "rooms", std::move(rooms), a);
    return out;
  }

  json::Value typing_extension() {
    json::Value rooms(rapidjson::kObjectType);
    uint64_t since = base ? base->streams.typing : 0;
    for (auto& [room_id, w] : wanted) {
      if (!ctx.typing || !covers(req.typing, w) || w.entry->membership != "join") continue;
      bool fresh = initial_rooms.count(room_id) > 0;
      if (auto t = ctx.typing->typing_since(room_id, fresh ? 0 : since); t) {
        json::Value v;
        v.CopyFrom(*t, a);
        json::set(rooms, room_id, std::move(v), a);
      }
    }
    if (!rooms.ObjectEmpty()) empty = false;
    json::Value out(rapidjson::kObjectType);
    json::set(out, "rooms", std::move(rooms), a);
    return out;
  }

  json::Value build_extensions() {
    json::Value ext(rapidjson::kObjectType);
    if (req.to_device.enabled) json::set(ext, "to_device", to_device_extension(), a);
    if (req.e2ee.enabled) json::set(ext, "e2ee", e2ee_extension(), a);
    if (req.account_data.enabled) json::set(ext, "account_data", account_data_extension(), a);
    if (req.receipts.enabled) json::set(ext, "receipts", receipts_extension(), a);
    if (req.typing.enabled) json::set(ext, "typing", typing_extension(), a);
    return ext;
  }
};

}  // namespace

SlidingResult build_sliding_sync(ServerContext& ctx, storage::ReadTxn& txn, const Requester& who,
                                 const sync::SlidingRequest& request,
                                 const sync::ConnectionState* base) {
  SlidingResult result;
  result.body.SetObject();
  auto& a = result.body.GetAllocator();
  Builder b(ctx, txn, who, request, base, a);
  b.now = current_positions(ctx, txn);
  b.now.to_device = 0;  // the to_device extension keeps its own position
  b.next->streams = b.now;
  if (base) b.next->rooms = base->rooms;
  b.merge_subscriptions();

  auto list = sync::sliding_room_list(txn, who.user_id, b.sent_rooms());
  std::map<std::string, const RoomListEntry*> by_id;
  for (auto& e : list) by_id.emplace(e.room_id, &e);
  json::Value lists = b.build_lists(list);
  b.add_subscriptions(by_id);
  json::Value rooms = b.build_rooms();
  json::Value extensions = b.build_extensions();

  json::set(result.body, "lists", std::move(lists), a);
  json::set(result.body, "rooms", std::move(rooms), a);
  json::set(result.body, "extensions", std::move(extensions), a);
  result.next = std::move(b.next);
  result.empty = b.empty;
  return result;
}

}  // namespace haven::client
