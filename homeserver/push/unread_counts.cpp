// unread_counts(): push rule evaluation over the unread part of a room's timeline.
#include <limits>

#include "homeserver/base/json.h"
#include "homeserver/push/evaluator.h"
#include "homeserver/push/push_rules.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/power_levels.h"

namespace haven::push {

namespace {

// The room as the conditions see it now. Current state stands in for the state at each
// event: counts are a hint for the client, and this keeps the scan to one state read.
PushContext context_for(storage::ReadTxn& txn, std::string_view room_id, std::string_view user_id,
                        const rooms::PowerLevels& pl, std::optional<int64_t> joined_members) {
  PushContext ctx;
  ctx.user_id = std::string(user_id);
  ctx.room_member_count = joined_members ? *joined_members : joined_member_count(txn, room_id);
  if (auto me = rooms::current_state_event(txn, room_id, "m.room.member", user_id); me) {
    ctx.display_name = json::get_string(me->content(), "displayname");
  }
  for (const auto& [key, level] : pl.notifications()) ctx.notification_levels[key] = level;
  ctx.notification_levels["room"] = pl.notification_level("room");
  return ctx;
}

// True when `ev` begins the user's current stretch in the room (their invite, or a join that
// did not follow a join), so nothing before it was sent while they were there. A join after a
// join is a profile change and changes nothing. The user's previous membership is among the
// auth events of a membership event that concerns them.
bool starts_membership(storage::ReadTxn& txn, const rooms::Event& ev, std::string_view user_id) {
  if (ev.type() != "m.room.member" || ev.state_key() != user_id) return false;
  if (ev.membership() != "join") return true;
  for (const std::string& id : ev.auth_events()) {
    auto prev = rooms::get_event(txn, id);
    if (prev && prev->event->type() == "m.room.member" && prev->event->state_key() == user_id) {
      return prev->event->membership() != "join";
    }
  }
  return true;
}

}  // namespace

int64_t joined_member_count(storage::ReadTxn& txn, std::string_view room_id) {
  int64_t count = 0;
  for (const auto& [member, membership] : rooms::members_of_room(txn, room_id)) {
    if (membership == "join") ++count;
  }
  return count;
}

PushResult evaluate_for_user(storage::ReadTxn& txn, std::string_view room_id,
                             std::string_view user_id, const rooms::Event& event,
                             const UnreadInputs& known) {
  auto room = rooms::get_room(txn, room_id);
  if (!room || event.sender() == user_id) return {};
  const rooms::RoomVersion* version = rooms::find_room_version(room->version);
  if (!version) return {};
  rooms::CurrentStateView state(txn, std::string(room_id));
  rooms::PowerLevels pl = rooms::power_levels(state, *version);
  PushContext ctx = context_for(txn, room_id, user_id, pl, known.joined_members);
  ctx.sender_power_level = pl.user_level(event.sender());
  if (known.rules) return evaluate(*known.rules, event, ctx);
  return evaluate(load_rules(txn, user_id), event, ctx);
}

UnreadCounts unread_counts(storage::ReadTxn& txn, std::string_view room_id,
                           std::string_view user_id, uint64_t after_event_pos, bool* reset,
                           const UnreadInputs& known) {
  UnreadCounts counts;
  if (reset) *reset = false;
  auto room = rooms::get_room(txn, room_id);
  if (!room) return counts;
  const rooms::RoomVersion* version = rooms::find_room_version(room->version);
  if (!version) return counts;
  rooms::CurrentStateView state(txn, std::string(room_id));
  rooms::PowerLevels pl = rooms::power_levels(state, *version);
  PushContext ctx = context_for(txn, room_id, user_id, pl, known.joined_members);
  Ruleset loaded;
  if (!known.rules) loaded = load_rules(txn, user_id);
  const Ruleset& rules = known.rules ? *known.rules : loaded;

  // Newest first: when the cap cuts the scan short, the recent events are the ones counted.
  int scanned = 0;
  auto visit = [&](uint64_t pos, std::string_view event_id) {
    if (pos <= after_event_pos || scanned >= kMaxUnreadScan) return false;
    ++scanned;
    auto stored = rooms::get_event(txn, event_id);
    if (!stored) return true;
    const rooms::Event& ev = *stored->event;
    if (starts_membership(txn, ev, user_id)) {
      if (reset) *reset = true;
      return false;
    }
    if (stored->redacted || ev.sender() == user_id) return true;
    ctx.sender_power_level = pl.user_level(ev.sender());
    PushResult r = evaluate(rules, ev, ctx);
    if (r.notify) {
      ++counts.notification_count;
      if (r.highlight) ++counts.highlight_count;
    }
    return true;
  };
  rooms::scan_timeline(txn, room_id, std::numeric_limits<uint64_t>::max(),
                       storage::Direction::kBackward, visit);
  return counts;
}

UnreadCounts UnreadCache::get(storage::ReadTxn& txn, const std::string& room_id,
                              const std::string& user_id, uint64_t read_pos,
                              uint64_t room_last_pos) {
  constexpr size_t kMaxEntries = 200'000;
  if (entries_.size() > kMaxEntries) entries_.clear();
  if (members_.size() > kMaxEntries) members_.clear();
  auto [it, fresh] = entries_.try_emplace({user_id, room_id});
  Entry& e = it->second;
  if (!fresh && e.read_pos == read_pos && e.upto_pos == room_last_pos) return e.counts;
  auto& [members_pos, members] = members_[room_id];
  if (members_pos != room_last_pos || members_pos == 0) {
    members = joined_member_count(txn, room_id);
    members_pos = room_last_pos;
  }
  UnreadInputs known{&rules_of(txn, user_id), members};
  if (fresh || e.read_pos != read_pos || e.upto_pos > room_last_pos) {
    e.counts = unread_counts(txn, room_id, user_id, read_pos, nullptr, known);
  } else {
    bool reset = false;
    UnreadCounts added = unread_counts(txn, room_id, user_id, e.upto_pos, &reset, known);
    if (reset) {
      e.counts = added;
    } else {
      e.counts.notification_count += added.notification_count;
      e.counts.highlight_count += added.highlight_count;
    }
  }
  e.read_pos = read_pos;
  e.upto_pos = room_last_pos;
  return e.counts;
}

const Ruleset& UnreadCache::rules_of(storage::ReadTxn& txn, const std::string& user_id) {
  constexpr size_t kMaxUsers = 100'000;
  if (rules_.size() > kMaxUsers) rules_.clear();
  auto it = rules_.find(user_id);
  if (it == rules_.end()) it = rules_.emplace(user_id, load_rules(txn, user_id)).first;
  return it->second;
}

void UnreadCache::forget_user(const std::string& user_id) {
  rules_.erase(user_id);
  auto first = entries_.lower_bound({user_id, std::string()});
  auto last = first;
  while (last != entries_.end() && last->first.first == user_id) ++last;
  entries_.erase(first, last);
}

}  // namespace haven::push
