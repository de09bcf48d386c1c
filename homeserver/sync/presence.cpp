// Presence: each user's state as set (PUT /presence or /sync's set_presence), kept in
// kPresence as user_id -> JSON {presence, status_msg?, last_active_ts, pos}. The counter
// "presence" gives the stream positions; /sync asks for the users it may see whose position
// is past its token.
#include <algorithm>

#include "homeserver/base/json.h"
#include "homeserver/base/write.h"
#include "homeserver/rooms/room_access.h"
#include "homeserver/server_context.h"
#include "homeserver/sync/notifier.h"
#include "homeserver/sync/stream_counter.h"
#include "homeserver/sync/streams.h"

namespace haven::streams {

namespace {

using storage::Table;

constexpr std::string_view kCounter = "presence";
// An online user inactive this long shows as unavailable (the spec's idle timeout).
constexpr int64_t kIdleMs = 5 * 60 * 1000;
// Syncing refreshes last_active_ts at most this often, without a stream update.
constexpr int64_t kRefreshMs = 60 * 1000;
// Active this recently counts as currently_active (longer than kRefreshMs, so a user whose
// client keeps syncing stays currently active).
constexpr int64_t kCurrentlyActiveMs = 2 * kRefreshMs;

std::string encode(const Presence& p) {
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::set(d, "presence", p.presence, a);
  if (p.status_msg) json::set(d, "status_msg", *p.status_msg, a);
  json::set(d, "last_active_ts", p.last_active_ts, a);
  json::set(d, "pos", static_cast<int64_t>(p.pos), a);
  return json::to_string(d);
}

}  // namespace

uint64_t presence_pos(storage::ReadTxn& txn) { return stream_counter(txn, kCounter); }

std::optional<Presence> get_presence(storage::ReadTxn& txn, std::string_view user_id) {
  auto stored = txn.get(Table::kPresence, user_id);
  if (!stored) return std::nullopt;
  auto d = json::parse_trusted(*stored);
  if (!d.IsObject()) return std::nullopt;
  Presence p;
  p.presence = json::get_string(d, "presence", "offline");
  if (auto it = d.FindMember("status_msg"); it != d.MemberEnd() && it->value.IsString()) {
    p.status_msg = std::string(it->value.GetString(), it->value.GetStringLength());
  }
  p.last_active_ts = json::get_int(d, "last_active_ts");
  p.pos = static_cast<uint64_t>(json::get_int(d, "pos"));
  return p;
}

storage::Status put_presence(storage::WriteTxn& txn, std::string_view user_id, Presence& presence,
                             bool bump) {
  if (bump) presence.pos = txn.next_counter(kCounter);
  return txn.put(Table::kPresence, user_id, encode(presence));
}

Document presence_content(const Presence& p, int64_t now_ms) {
  Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  int64_t idle = p.last_active_ts > 0 ? std::max<int64_t>(0, now_ms - p.last_active_ts) : -1;
  std::string state = p.presence;
  if (state == "online" && (idle < 0 || idle > kIdleMs)) state = "unavailable";
  json::set(d, "presence", state, a);
  if (idle >= 0) json::set(d, "last_active_ago", idle, a);
  if (state == "online") json::set(d, "currently_active", idle <= kCurrentlyActiveMs, a);
  if (p.status_msg) json::set(d, "status_msg", *p.status_msg, a);
  return d;
}

std::vector<Document> presence_since(storage::ReadTxn& txn, uint64_t since,
                                     const std::set<std::string>& visible_users, int64_t now_ms) {
  std::vector<Document> events;
  for (const auto& user_id : visible_users) {
    auto p = get_presence(txn, user_id);
    if (!p || p->pos <= since) continue;
    Document ev;
    ev.SetObject();
    auto& a = ev.GetAllocator();
    json::set(ev, "type", "m.presence", a);
    json::set(ev, "sender", user_id, a);
    json::Value content;
    content.CopyFrom(presence_content(*p, now_ms), a);
    json::set(ev, "content", std::move(content), a);
    events.push_back(std::move(ev));
  }
  return events;
}

namespace {

enum class SyncPresenceChange { kNone, kRefresh, kState };

// How often activity refreshes last_active_ts: at most every kRefreshMs, and often enough
// that an active user is never swept offline between two refreshes.
int64_t refresh_interval_ms(const ServerContext& ctx) {
  return std::min<int64_t>(kRefreshMs, ctx.config.presence_offline_after_seconds * 1000 / 3);
}

SyncPresenceChange sync_change(const std::optional<Presence>& p, std::string_view state,
                               int64_t now, int64_t refresh_ms) {
  if (!p || p->presence != state) return SyncPresenceChange::kState;
  if (state == "online" && now - p->last_active_ts > refresh_ms)
    return SyncPresenceChange::kRefresh;
  return SyncPresenceChange::kNone;
}

void notify_sharing_users(ServerContext& ctx, const std::vector<std::string>& user_ids) {
  auto txn = ctx.store->begin_read();
  if (!txn) return;
  std::set<std::string> users;
  for (const std::string& user_id : user_ids) {
    users.merge(rooms::users_sharing_rooms(*txn, user_id));
    users.insert(user_id);
  }
  txn.reset();
  ctx.notifier->notify_users(users);
}

}  // namespace

void set_presence_from_sync(ServerContext& ctx, const std::string& user_id,
                            std::string_view set_presence) {
  if (set_presence != "online" && set_presence != "unavailable") return;
  std::string state(set_presence);
  {
    auto txn = ctx.store->begin_read();
    if (!txn) return;
    if (sync_change(get_presence(*txn, user_id), state, now_ms(), refresh_interval_ms(ctx)) ==
        SyncPresenceChange::kNone) {
      return;
    }
  }
  // Decided again on the writer: syncs racing each other must not each bump the stream.
  write<bool>(
      *ctx.store,
      [user_id, state, refresh = refresh_interval_ms(ctx)](storage::WriteTxn& txn) -> Result<bool> {
        int64_t now = now_ms();
        auto current = get_presence(txn, user_id);
        auto change = sync_change(current, state, now, refresh);
        if (change == SyncPresenceChange::kNone) return false;
        Presence p = current.value_or(Presence{});
        p.presence = state;
        if (state == "online") p.last_active_ts = now;
        HAVEN_TRY(check(put_presence(txn, user_id, p, change == SyncPresenceChange::kState)));
        return change == SyncPresenceChange::kState;
      },
      [&ctx, user_id](Result<bool> r) {
        if (r.ok() && r.value()) notify_sharing_users(ctx, {user_id});
      });
}

PresenceSweep::PresenceSweep(ServerContext& ctx)
    : ctx_(ctx), offline_after_ms_(int64_t{ctx.config.presence_offline_after_seconds} * 1000) {
  arm();
}

void PresenceSweep::arm() {
  int64_t interval = std::clamp<int64_t>(offline_after_ms_ / 4, 1000, 30'000);
  timer_ = ctx_.loop->at(now_ms() + interval, [this] {
    sweep();
    arm();  // replaces (destroys) the timer running this callback
  });
}

void PresenceSweep::sweep() {
  int64_t cutoff = now_ms() - offline_after_ms_;
  auto stale = [cutoff](const Presence& p) {
    return p.presence != "offline" && p.last_active_ts < cutoff;
  };
  std::vector<std::string> candidates;
  {
    auto txn = ctx_.store->begin_read();
    if (!txn) return;
    txn->scan(Table::kPresence, "", "", storage::Direction::kForward,
              [&](std::string_view user_id, std::string_view) {
                auto p = get_presence(*txn, user_id);
                if (p && stale(*p)) candidates.emplace_back(user_id);
                return true;
              });
  }
  if (candidates.empty()) return;
  // Checked again on the writer: a sync may have made someone active meanwhile.
  write<std::vector<std::string>>(
      *ctx_.store,
      [candidates, stale](storage::WriteTxn& txn) -> Result<std::vector<std::string>> {
        std::vector<std::string> gone;
        for (const std::string& user_id : candidates) {
          auto p = get_presence(txn, user_id);
          if (!p || !stale(*p)) continue;
          p->presence = "offline";
          HAVEN_TRY(check(put_presence(txn, user_id, *p, true)));
          gone.push_back(user_id);
        }
        return gone;
      },
      [&ctx = ctx_](Result<std::vector<std::string>> r) {
        if (r.ok() && !r->empty()) notify_sharing_users(ctx, *r);
      });
}

}  // namespace haven::streams
