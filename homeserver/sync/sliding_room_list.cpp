#include "homeserver/sync/sliding_room_list.h"

#include <algorithm>

#include "homeserver/base/json.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/sync/streams.h"

namespace haven::sync {

namespace {

// Whether a leave was the user's own doing (leaving, rejecting an invite) rather than a kick.
bool left_by_self(storage::ReadTxn& txn, const std::string& user_id, const rooms::Membership& m) {
  auto ev = rooms::get_event(txn, m.event_id);
  return !ev || ev->event->sender() == user_id;
}

// The state the user may see of a room they are not joined to: at their leave or ban.
rooms::EventPtr visible_state_event(storage::ReadTxn& txn, const RoomListEntry& room,
                                    const char* type) {
  if (room.membership == "leave" || room.membership == "ban") {
    auto ev = rooms::get_event(txn, room.membership_event_id);
    if (!ev) return nullptr;
    auto ids = rooms::state_ids_at_group(txn, ev->state_group);
    auto it = ids.find({type, ""});
    if (it == ids.end()) return nullptr;
    auto state = rooms::get_event(txn, it->second);
    return state ? state->event : nullptr;
  }
  return rooms::current_state_event(txn, room.room_id, type, "");
}

}  // namespace

std::vector<RoomListEntry> sliding_room_list(storage::ReadTxn& txn, const std::string& user_id,
                                             const SentRooms& sent) {
  std::vector<RoomListEntry> list;
  for (auto& [room_id, m] : rooms::rooms_of_user(txn, user_id)) {
    bool was_sent = sent.count(room_id) > 0;
    RoomListEntry e{room_id, m.membership, m.event_id, m.pos, m.pos, false};
    if (m.membership == "invite" || m.membership == "knock") {
      list.push_back(std::move(e));  // a remote room's invite has no local room record
      continue;
    }
    auto room = rooms::get_room(txn, room_id);
    if (!room) {
      if (!was_sent) continue;
      e.room_gone = true;
    } else if (m.membership == "join") {
      e.activity_pos = room->last_pos;
    } else if (m.membership == "leave") {
      if (!was_sent && left_by_self(txn, user_id, m)) continue;
    } else if (m.membership != "ban") {
      continue;
    }
    list.push_back(std::move(e));
  }
  std::sort(list.begin(), list.end(), [](const RoomListEntry& a, const RoomListEntry& b) {
    if (a.activity_pos != b.activity_pos) return a.activity_pos > b.activity_pos;
    return a.room_id < b.room_id;
  });
  return list;
}

ListFilterCheck::ListFilterCheck(storage::ReadTxn& txn, std::string user_id)
    : txn_(txn), user_id_(std::move(user_id)) {}

bool ListFilterCheck::is_dm(const std::string& room_id) { return dm_rooms().count(room_id) > 0; }

bool ListFilterCheck::passes(const ListFilters& f, const RoomListEntry& room) {
  if (f.is_invite && *f.is_invite != (room.membership == "invite")) return false;
  if (f.is_dm && *f.is_dm != is_dm(room.room_id)) return false;
  if (room.room_gone) {
    // Nothing is known of a deleted room but its id: only filters on membership can match it.
    return !f.is_encrypted && !f.room_types && !f.spaces && !f.tags;
  }
  if (f.is_encrypted &&
      *f.is_encrypted != (visible_state_event(txn_, room, "m.room.encryption") != nullptr)) {
    return false;
  }
  if (f.room_types || f.not_room_types) {
    std::optional<std::string> type;
    if (auto create = rooms::current_state_event(txn_, room.room_id, "m.room.create", ""); create) {
      auto t = create->content().FindMember("type");
      if (t != create->content().MemberEnd() && t->value.IsString()) type = t->value.GetString();
    }
    if (f.not_room_types && std::find(f.not_room_types->begin(), f.not_room_types->end(), type) !=
                                f.not_room_types->end()) {
      return false;
    }
    if (f.room_types &&
        std::find(f.room_types->begin(), f.room_types->end(), type) == f.room_types->end()) {
      return false;
    }
  }
  if (f.tags || f.not_tags) {
    auto tags = tags_of(room.room_id);
    if (f.not_tags) {
      for (auto& t : *f.not_tags) {
        if (tags.count(t)) return false;
      }
    }
    if (f.tags && std::none_of(f.tags->begin(), f.tags->end(),
                               [&](const std::string& t) { return tags.count(t) > 0; })) {
      return false;
    }
  }
  if (f.spaces) {
    bool in_space = std::any_of(f.spaces->begin(), f.spaces->end(), [&](const std::string& s) {
      return space_children(s).count(room.room_id) > 0;
    });
    if (!in_space) return false;
  }
  return true;
}

const std::set<std::string>& ListFilterCheck::dm_rooms() {
  if (dm_rooms_) return *dm_rooms_;
  dm_rooms_.emplace();
  auto text = streams::get_account_data(txn_, user_id_, "", "m.direct");
  if (!text) return *dm_rooms_;
  auto doc = json::parse_trusted(*text);
  if (!doc.IsObject()) return *dm_rooms_;
  for (auto& m : doc.GetObject()) {
    if (!m.value.IsArray()) continue;
    for (auto& r : m.value.GetArray()) {
      if (r.IsString()) dm_rooms_->insert(r.GetString());
    }
  }
  return *dm_rooms_;
}

// The rooms a space lists as children (m.space.child with a non-empty `via`), for a space the
// user is joined to; nothing for any other.
const std::set<std::string>& ListFilterCheck::space_children(const std::string& space_id) {
  auto [it, fresh] = space_children_.try_emplace(space_id);
  if (!fresh) return it->second;
  auto m = rooms::membership(txn_, user_id_, space_id);
  auto room = rooms::get_room(txn_, space_id);
  if (!m || m->membership != "join" || !room) return it->second;
  for (auto& [key, event_id] : rooms::state_ids_at_group(txn_, room->state_group)) {
    if (key.first != "m.space.child") continue;
    auto ev = rooms::get_event(txn_, event_id);
    if (!ev) continue;
    auto via = ev->event->content().FindMember("via");
    if (via != ev->event->content().MemberEnd() && via->value.IsArray() && !via->value.Empty()) {
      it->second.insert(key.second);
    }
  }
  return it->second;
}

std::set<std::string> ListFilterCheck::tags_of(const std::string& room_id) {
  std::set<std::string> tags;
  auto text = streams::get_account_data(txn_, user_id_, room_id, "m.tag");
  if (!text) return tags;
  auto doc = json::parse_trusted(*text);
  if (!doc.IsObject()) return tags;
  auto t = doc.FindMember("tags");
  if (t == doc.MemberEnd() || !t->value.IsObject()) return tags;
  for (auto& m : t->value.GetObject()) tags.insert(m.name.GetString());
  return tags;
}

}  // namespace haven::sync
