// Synapse-compatible admin API for rooms (docs/admin_api/rooms.md in Synapse): list, details,
// members, state, block, and deletion (v1 waits for it, v2 runs it in the background and
// reports its status). Server admins only.
//
// Deleting a room: block it (when asked) so nobody joins meanwhile; make every local member
// leave (or reject their invite) as themselves, which the auth rules always allow; remove its
// aliases; then, with purge, remove the media only it used (media::purge_room_media_step, files
// last), its keys in server-side key backups, and everything else of it in bounded writer jobs
// (rooms::purge_room_step, which destroys the room's at-rest key first). Moving the members to a
// new room (new_room_user_id) is not implemented and is refused.
#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "crypto/random.h"
#include "homeserver/accounts/account_store.h"
#include "homeserver/base/write.h"
#include "homeserver/client/admin_params.h"
#include "homeserver/client/event_format.h"
#include "homeserver/client/room_send.h"
#include "homeserver/client/routes.h"
#include "homeserver/delayed/delayed_store.h"
#include "homeserver/e2ee/key_backup.h"
#include "homeserver/media/media_purge.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/ids.h"
#include "homeserver/rooms/room_details.h"
#include "homeserver/rooms/room_purge.h"
#include "homeserver/rooms/room_service.h"
#include "storage/keys.h"

namespace haven::client {

namespace {

using storage::KeyBuilder;
using storage::Table;

const std::string kV1 = "/_synapse/admin/v1";
const std::string kV2 = "/_synapse/admin/v2";
constexpr int64_t kMaxPageSize = 1000;
constexpr size_t kPurgeBatch = 256;                      // records per purge job
constexpr int64_t kTaskRetentionMs = 24 * 3600 * 1000;  // as Synapse keeps delete statuses
constexpr size_t kMaxMessageBytes = 1024;

// ---- Room details -------------------------------------------------------------------------

void set_optional(json::Value& o, const char* key, const std::optional<std::string>& v,
                  json::Alloc& a) {
  if (v) {
    json::set(o, key, *v, a);
  } else {
    json::set(o, key, json::Value(rapidjson::kNullType), a);
  }
}

json::Value room_json(const rooms::RoomDetails& d, json::Alloc& a) {
  json::Value o(rapidjson::kObjectType);
  json::set(o, "room_id", d.room_id, a);
  set_optional(o, "name", d.name, a);
  set_optional(o, "canonical_alias", d.canonical_alias, a);
  json::set(o, "joined_members", d.joined_members, a);
  json::set(o, "joined_local_members", d.joined_local_members, a);
  json::set(o, "version", d.version, a);
  json::set(o, "creator", d.creator, a);
  set_optional(o, "encryption", d.encryption, a);
  json::set(o, "federatable", d.federatable, a);
  json::set(o, "public", d.is_public, a);
  json::set(o, "join_rules", d.join_rules, a);
  set_optional(o, "guest_access", d.guest_access, a);
  json::set(o, "history_visibility", d.history_visibility, a);
  json::set(o, "state_events", d.state_events, a);
  set_optional(o, "room_type", d.room_type, a);
  return o;
}

Status check_room_id(const std::string& room_id) {
  if (!rooms::is_valid_room_id(room_id)) {
    return Error::invalid_param(room_id + " is not a legal room ID");
  }
  return {};
}

// The details of the path's room: 400 for a malformed id, 404 for an unknown room.
Result<rooms::RoomDetails> known_room(ServerContext& ctx, storage::ReadTxn& txn,
                                      const std::string& room_id) {
  HAVEN_TRY(check_room_id(room_id));
  auto d = rooms::room_details(txn, room_id, ctx.server_name);
  if (!d) return Error::not_found("Room not found");
  return std::move(*d);
}

const std::initializer_list<std::string_view> kRoomOrders = {
    "name",      "alphabetical", "size",       "joined_members", "joined_local_members",
    "version",   "creator",      "encryption", "federatable",    "public",
    "join_rules", "guest_access", "history_visibility", "state_events", "canonical_alias"};

// Compares two rooms by `order`: -1, 0, 1, in the order Synapse lists them going forwards
// (names alphabetically with unnamed rooms last, counts and versions largest first).
int compare_rooms(const std::string& order, const rooms::RoomDetails& a,
                  const rooms::RoomDetails& b) {
  auto cmp = [](const auto& x, const auto& y) { return x < y ? -1 : (y < x ? 1 : 0); };
  auto cmp_opt = [&](const std::optional<std::string>& x, const std::optional<std::string>& y) {
    if (x.has_value() != y.has_value()) return x.has_value() ? -1 : 1;
    return x ? cmp(*x, *y) : 0;
  };
  if (order == "name" || order == "alphabetical") return cmp_opt(a.name, b.name);
  if (order == "canonical_alias") return cmp_opt(a.canonical_alias, b.canonical_alias);
  if (order == "size" || order == "joined_members") return cmp(b.joined_members, a.joined_members);
  if (order == "joined_local_members") {
    return cmp(b.joined_local_members, a.joined_local_members);
  }
  if (order == "version") {
    int x = std::atoi(a.version.c_str()), y = std::atoi(b.version.c_str());
    return x != y ? cmp(y, x) : cmp(b.version, a.version);
  }
  if (order == "creator") return cmp(a.creator, b.creator);
  if (order == "encryption") return cmp_opt(a.encryption, b.encryption);
  if (order == "federatable") return cmp(b.federatable, a.federatable);
  if (order == "public") return cmp(b.is_public, a.is_public);
  if (order == "join_rules") return cmp(a.join_rules, b.join_rules);
  if (order == "guest_access") return cmp_opt(a.guest_access, b.guest_access);
  if (order == "history_visibility") return cmp(a.history_visibility, b.history_visibility);
  if (order == "state_events") return cmp(b.state_events, a.state_events);
  return 0;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The search term is in the name or the alias's localpart (any case), or the room id.
bool matches_search(const rooms::RoomDetails& d, const std::string& term_lower,
                    const std::string& term) {
  if (d.name && lower(*d.name).find(term_lower) != std::string::npos) return true;
  if (d.canonical_alias &&
      lower(std::string(rooms::localpart_of(*d.canonical_alias))).find(term_lower) !=
          std::string::npos) {
    return true;
  }
  return d.room_id.find(term) != std::string::npos;
}

// GET /_synapse/admin/v1/rooms
void list_rooms(ServerContext& ctx, const http::ExchangePtr& ex) {
  auto from = query_int(*ex, "from", 0, 0, INT64_MAX);
  auto limit = query_int(*ex, "limit", 100, 1, INT64_MAX);
  auto order_by = query_enum(*ex, "order_by", "name", kRoomOrders);
  auto forwards = query_forwards(*ex);
  auto public_rooms = query_bool(*ex, "public_rooms");
  auto empty_rooms = query_bool(*ex, "empty_rooms");
  for (auto* r : {&from, &limit}) {
    if (!r->ok()) return ex->reply_error(r->error());
  }
  if (!order_by.ok()) return ex->reply_error(order_by.error());
  if (!forwards.ok()) return ex->reply_error(forwards.error());
  for (auto* r : {&public_rooms, &empty_rooms}) {
    if (!r->ok()) return ex->reply_error(r->error());
  }
  auto search = ex->query("search_term");
  if (search && search->empty()) {
    return ex->reply_error(Error::invalid_param("search_term cannot be an empty string"));
  }
  std::string search_lower = search ? lower(*search) : "";

  auto txn = ctx.store->begin_read();
  std::vector<rooms::RoomDetails> list;
  for (const std::string& room_id : rooms::all_room_ids(*txn)) {
    auto d = rooms::room_details(*txn, room_id, ctx.server_name);
    if (!d) continue;
    if (search && !matches_search(*d, search_lower, *search)) continue;
    if (public_rooms->has_value() && d->is_public != **public_rooms) continue;
    if (empty_rooms->has_value() && (d->joined_members == 0) != **empty_rooms) continue;
    list.push_back(std::move(*d));
  }
  const std::string& order = *order_by;
  bool fwd = *forwards;
  std::sort(list.begin(), list.end(), [&](const auto& a, const auto& b) {
    int c = compare_rooms(order, a, b);
    if (c != 0) return fwd ? c < 0 : c > 0;
    return a.room_id < b.room_id;
  });
  int64_t total = static_cast<int64_t>(list.size());
  int64_t page = std::min(*limit, kMaxPageSize);
  int64_t start = std::min(*from, total);
  int64_t end = start + std::min(page, total - start);
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value rooms_arr(rapidjson::kArrayType);
  for (int64_t i = start; i < end; ++i) {
    rooms_arr.PushBack(room_json(list[static_cast<size_t>(i)], a), a);
  }
  json::set(d, "rooms", std::move(rooms_arr), a);
  json::set(d, "offset", *from, a);
  json::set(d, "total_rooms", total, a);
  if (end < total) json::set(d, "next_batch", end, a);
  if (*from > 0) json::set(d, "prev_batch", std::max<int64_t>(0, *from - page), a);
  ex->reply_json(200, d);
}

// GET /_synapse/admin/v1/rooms/{roomId}
void get_room(ServerContext& ctx, const http::ExchangePtr& ex) {
  auto txn = ctx.store->begin_read();
  auto details = known_room(ctx, *txn, ex->params[0]);
  if (!details.ok()) return ex->reply_error(details.error());
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value o = room_json(*details, a);
  set_optional(o, "topic", details->topic, a);
  set_optional(o, "avatar", details->avatar, a);
  int64_t local_devices = 0;
  bool forgotten = true;  // by every local user who was ever in it
  for (auto& [user, membership] : rooms::members_of_room(*txn, details->room_id)) {
    if (rooms::server_name_of(user) != ctx.server_name) continue;
    if (membership == "join") {
      local_devices += static_cast<int64_t>(accounts::list_devices(*txn, user).size());
    }
    if (rooms::membership(*txn, user, details->room_id)) forgotten = false;
  }
  json::set(o, "joined_local_devices", local_devices, a);
  json::set(o, "forgotten", forgotten, a);
  json::set(o, "tombstoned", details->tombstoned, a);
  set_optional(o, "replacement_room", details->replacement_room, a);
  ex->reply_json(200, o);
}

// GET /_synapse/admin/v1/rooms/{roomId}/members
void get_members(ServerContext& ctx, const http::ExchangePtr& ex) {
  auto txn = ctx.store->begin_read();
  auto details = known_room(ctx, *txn, ex->params[0]);
  if (!details.ok()) return ex->reply_error(details.error());
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value members(rapidjson::kArrayType);
  for (const std::string& user : rooms::joined_members(*txn, details->room_id)) {
    members.PushBack(json::str(user, a), a);
  }
  json::set(d, "total", static_cast<int64_t>(members.Size()), a);
  json::set(d, "members", std::move(members), a);
  ex->reply_json(200, d);
}

// GET /_synapse/admin/v1/rooms/{roomId}/state
void get_state(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto txn = ctx.store->begin_read();
  auto details = known_room(ctx, *txn, ex->params[0]);
  if (!details.ok()) return ex->reply_error(details.error());
  auto room = rooms::get_room(*txn, details->room_id);
  if (!room) return ex->reply_error(Error::not_found("Room not found"));
  auto type = ex->query("type");
  // The operator sees the room as stored: no care anonymity applies to them here.
  Requester viewer = who;
  viewer.care = nullptr;
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value state(rapidjson::kArrayType);
  for (auto& [key, id] : rooms::state_ids_at_group(*txn, room->state_group)) {
    if (type && key.first != *type) continue;
    if (auto ev = rooms::get_event(*txn, id); ev) {
      state.PushBack(format_event(*txn, *ev, viewer, a, EventFormat::kClient), a);
    }
  }
  json::set(d, "state", std::move(state), a);
  ex->reply_json(200, d);
}

// ---- Blocking -----------------------------------------------------------------------------

// GET /_synapse/admin/v1/rooms/{roomId}/block
void get_block(ServerContext& ctx, const http::ExchangePtr& ex) {
  const std::string& room_id = ex->params[0];
  if (auto s = check_room_id(room_id); !s.ok()) return ex->reply_error(s.error());
  auto txn = ctx.store->begin_read();
  auto block = rooms::room_block(*txn, room_id);
  auto d = json::object();
  json::set(d, "block", block.has_value(), d.GetAllocator());
  if (block) json::set(d, "user_id", block->user_id, d.GetAllocator());
  ex->reply_json(200, d);
}

// PUT /_synapse/admin/v1/rooms/{roomId}/block
void put_block(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  const std::string room_id = ex->params[0];
  if (auto s = check_room_id(room_id); !s.ok()) return ex->reply_error(s.error());
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto block = json::optional_bool(*body, "block");
  if (!block.ok()) return ex->reply_error(block.error());
  if (!*block) return ex->reply_error(Error::missing_param("Missing 'block'"));
  write<bool>(
      *ctx.store,
      [room_id, value = **block, admin = who.user_id](storage::WriteTxn& txn) -> Result<bool> {
        if (value) {
          // Re-blocking keeps who blocked it first.
          if (!rooms::room_block(txn, room_id)) {
            HAVEN_TRY(check(rooms::block_room(txn, room_id, rooms::RoomBlock{admin, now_ms()})));
          }
        } else {
          HAVEN_TRY(check(rooms::unblock_room(txn, room_id)));
        }
        return value;
      },
      [ex](Result<bool> r) {
        if (!r.ok()) return ex->reply_error(r.error());
        ex->reply_json(200, *r ? R"({"block":true})" : R"({"block":false})");
      });
}

// ---- Deletion -----------------------------------------------------------------------------

struct DeleteParams {
  bool block = false;
  bool purge = true;
  bool force_purge = false;
  std::string admin;
  std::optional<std::string> message;  // the leave reason the members see
};

struct DeleteTask {
  std::string delete_id;
  std::string room_id;
  std::string status = "active";  // active, complete, failed
  std::string error;
  std::vector<std::string> kicked_users;
  std::vector<std::string> failed_to_kick_users;
  std::vector<std::string> local_aliases;
  int64_t finished_ms = 0;
};
using TaskPtr = std::shared_ptr<DeleteTask>;

// Tasks by delete id, kept for a day after they end (until restart), as Synapse does.
std::map<std::string, TaskPtr>& tasks() {
  static std::map<std::string, TaskPtr> t;
  return t;
}

void forget_old_tasks() {
  int64_t now = now_ms();
  std::erase_if(tasks(), [now](auto& kv) {
    return kv.second->finished_ms != 0 && now - kv.second->finished_ms > kTaskRetentionMs;
  });
}

json::Value task_json(const DeleteTask& t, json::Alloc& a) {
  auto list = [&a](const std::vector<std::string>& v) {
    json::Value arr(rapidjson::kArrayType);
    for (auto& s : v) arr.PushBack(json::str(s, a), a);
    return arr;
  };
  json::Value o(rapidjson::kObjectType);
  json::set(o, "delete_id", t.delete_id, a);
  json::set(o, "room_id", t.room_id, a);
  json::set(o, "status", t.status, a);
  if (!t.error.empty()) json::set(o, "error", t.error, a);
  json::Value shutdown(rapidjson::kObjectType);
  json::set(shutdown, "kicked_users", list(t.kicked_users), a);
  json::set(shutdown, "failed_to_kick_users", list(t.failed_to_kick_users), a);
  json::set(shutdown, "local_aliases", list(t.local_aliases), a);
  json::set(shutdown, "new_room_id", json::Value(rapidjson::kNullType), a);
  json::set(o, "shutdown_room", std::move(shutdown), a);
  return o;
}

using Next = std::function<void(Status)>;

void block_step(ServerContext& ctx, const TaskPtr& task, const DeleteParams& p, Next next) {
  if (!p.block) return next({});
  write<bool>(
      *ctx.store,
      [room_id = task->room_id, admin = p.admin](storage::WriteTxn& txn) -> Result<bool> {
        if (!rooms::room_block(txn, room_id)) {
          HAVEN_TRY(check(rooms::block_room(txn, room_id, rooms::RoomBlock{admin, now_ms()})));
        }
        return true;
      },
      [next](Result<bool> r) { next(r.ok() ? Status() : Status(std::move(r).error())); });
}

// Every local member with a join, invite or knock leaves as themselves: the operator's action,
// so no care rule applies (LocalServer without a policy).
void kick_step(ServerContext& ctx, const TaskPtr& task, const DeleteParams& p, Next next) {
  std::vector<std::string> targets;
  {
    auto txn = ctx.store->begin_read();
    for (auto& [user, m] : rooms::members_of_room(*txn, task->room_id)) {
      if (rooms::server_name_of(user) != ctx.server_name) continue;
      if (m == "join" || m == "invite" || m == "knock") targets.push_back(user);
    }
  }
  if (targets.empty()) return next({});
  auto remaining = std::make_shared<size_t>(targets.size());
  rooms::LocalServer server{ctx.server_name, ctx.signing_key, nullptr, ctx.outbound};
  for (const std::string& user : targets) {
    auto content = json::object();
    json::set(content, "membership", "leave", content.GetAllocator());
    if (p.message) json::set(content, "reason", *p.message, content.GetAllocator());
    auto draft = std::make_shared<rooms::EventDraft>(
        make_draft(task->room_id, user, "m.room.member", user, std::move(content)));
    auto sent = std::make_shared<rooms::EventPtr>();
    write<bool>(
        *ctx.store,
        [server, draft, sent](storage::WriteTxn& txn) -> Result<bool> {
          auto r = rooms::send_event(txn, server, clone_draft(*draft));
          if (!r.ok()) return std::move(r).error();
          *sent = r->event;
          return true;
        },
        [&ctx, task, user, sent, remaining, next](Result<bool> r) {
          if (r.ok() && *sent) {
            task->kicked_users.push_back(user);
            notify_sent(ctx, **sent);
          } else {
            task->failed_to_kick_users.push_back(user);
          }
          if (--*remaining == 0) next({});
        });
  }
}

void alias_step(ServerContext& ctx, const TaskPtr& task, Next next) {
  auto removed = std::make_shared<std::vector<std::string>>();
  write<bool>(
      *ctx.store,
      [room_id = task->room_id, removed](storage::WriteTxn& txn) -> Result<bool> {
        removed->clear();
        std::string prefix = KeyBuilder().str(room_id).take();
        std::vector<std::string> aliases;
        txn.scan(Table::kRoomAliasesByRoom, prefix, {}, storage::Direction::kForward,
                 [&](std::string_view key, std::string_view) {
                   aliases.emplace_back(key.substr(prefix.size()));
                   return true;
                 });
        for (const std::string& alias : aliases) {
          if (auto v = txn.get(Table::kRoomAliases, alias); v) {
            if (json::get_string(json::parse_trusted(*v), "room_id") == room_id) {
              HAVEN_TRY(check(txn.del(Table::kRoomAliases, alias)));
            }
          }
          HAVEN_TRY(check(txn.del(Table::kRoomAliasesByRoom, prefix + alias)));
          removed->push_back(alias);
        }
        return true;
      },
      [task, removed, next](Result<bool> r) {
        if (!r.ok()) return next(std::move(r).error());
        task->local_aliases = *removed;
        next({});
      });
}

void purge_batches(ServerContext& ctx, const TaskPtr& task, Next next) {
  write<rooms::PurgeStep>(
      *ctx.store,
      [room_id = task->room_id, server = ctx.server_name](storage::WriteTxn& txn) {
        return rooms::purge_room_step(txn, room_id, server, kPurgeBatch);
      },
      [&ctx, task, next](Result<rooms::PurgeStep> r) {
        if (!r.ok()) return next(std::move(r).error());
        if (r->done) return next({});
        purge_batches(ctx, task, next);
      });
}

// This server's media ids that local users' profiles name as their avatar: a member event
// carries the profile's avatar into every room, so purging the room must not take it.
std::set<std::string> profile_avatars(storage::ReadTxn& txn, std::string_view server) {
  std::set<std::string> out;
  for (const auto& user : accounts::all_users(txn)) {
    if (auto id = media::local_media_id(user.avatar_url, server)) out.insert(std::move(*id));
  }
  return out;
}

// The media the room's events named and nothing else uses: records in writer jobs, then the
// files on a worker once those jobs are on disk.
void purge_media_batches(ServerContext& ctx, const TaskPtr& task, Next next) {
  auto step = std::make_shared<media::MediaPurgeStep>();
  write<bool>(
      *ctx.store,
      [room_id = task->room_id, server = ctx.server_name,
       step](storage::WriteTxn& txn) -> Result<bool> {
        *step = {};
        auto kept = profile_avatars(txn, server);
        HAVEN_TRY(
            check(media::purge_room_media_step(txn, room_id, server, kPurgeBatch, kept, &*step)));
        return true;
      },
      [&ctx, task, step, next](Result<bool> r) {
        if (!r.ok()) return next(std::move(r).error());
        const media::MediaStore* store = ctx.media;
        ctx.workers->run<Status>(
            *ctx.loop, [store, step] { return media::remove_unused_blobs(*store, step->unused); },
            [&ctx, task, step, next](Status s) {
              if (!s.ok()) return next(std::move(s));
              if (step->done) return next({});
              purge_media_batches(ctx, task, next);
            });
      });
}

// The room's keys in every user's server-side key backup, and its delayed events (whose
// indexes need the records open, so before the room's key goes).
void purge_backups_and_delayed(ServerContext& ctx, const TaskPtr& task, Next next) {
  write<bool>(
      *ctx.store,
      [room_id = task->room_id](storage::WriteTxn& txn) -> Result<bool> {
        HAVEN_TRY(e2ee::delete_room_from_all_backups(txn, room_id));
        HAVEN_TRY(delayed::delete_room_delayed(txn, room_id));
        return true;
      },
      [next](Result<bool> r) { next(r.ok() ? Status() : Status(std::move(r).error())); });
}

void purge_step(ServerContext& ctx, const TaskPtr& task, const DeleteParams& p, Next next) {
  if (!p.purge) return next({});
  if (!p.force_purge) {
    auto txn = ctx.store->begin_read();
    for (const std::string& user : rooms::joined_members(*txn, task->room_id)) {
      if (rooms::server_name_of(user) == ctx.server_name) {
        return next(Error::unknown("Users are still joined to this room"));
      }
    }
  }
  // Media first: it is found through the room's index rows, which the room purge leaves alone.
  purge_media_batches(ctx, task, [&ctx, task, next](Status s) {
    if (!s.ok()) return next(std::move(s));
    purge_backups_and_delayed(ctx, task, [&ctx, task, next](Status s) {
      if (!s.ok()) return next(std::move(s));
      purge_batches(ctx, task, next);
    });
  });
}

// Runs the deletion; `done` once it has ended (complete or failed).
void run_delete(ServerContext& ctx, const TaskPtr& task, DeleteParams p,
                std::function<void()> done) {
  auto finish = [task, done](Status s) {
    task->status = s.ok() ? "complete" : "failed";
    if (!s.ok()) task->error = s.error().message;
    task->finished_ms = now_ms();
    done();
  };
  block_step(ctx, task, p, [&ctx, task, p, finish](Status s) {
    if (!s.ok()) return finish(std::move(s));
    kick_step(ctx, task, p, [&ctx, task, p, finish](Status s) {
      if (!s.ok()) return finish(std::move(s));
      alias_step(ctx, task, [&ctx, task, p, finish](Status s) {
        if (!s.ok()) return finish(std::move(s));
        purge_step(ctx, task, p, finish);
      });
    });
  });
}

// Checks a deletion request and registers its task; the caller runs it.
Result<std::pair<TaskPtr, DeleteParams>> start_delete(ServerContext& ctx,
                                                      const http::ExchangePtr& ex,
                                                      const Requester& who) {
  const std::string& room_id = ex->params[0];
  HAVEN_TRY(check_room_id(room_id));
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return std::move(body).error();
  DeleteParams p;
  p.admin = who.user_id;
  auto block = json::optional_bool(*body, "block");
  auto purge = json::optional_bool(*body, "purge");
  auto force = json::optional_bool(*body, "force_purge");
  for (auto* r : {&block, &purge, &force}) {
    if (!r->ok()) return r->error();
  }
  p.block = block->value_or(false);
  p.purge = purge->value_or(true);
  p.force_purge = force->value_or(false);
  if (auto it = body->FindMember("new_room_user_id");
      it != body->MemberEnd() && !it->value.IsNull()) {
    return Error::with(400, "M_UNRECOGNIZED",
                       "new_room_user_id is not supported: Haven removes the local members "
                       "without moving them to a new room");
  }
  auto message = json::optional_string(*body, "message");
  if (!message.ok()) return std::move(message).error();
  if (*message && (*message)->size() > kMaxMessageBytes) {
    return Error::invalid_param("message is longer than 1024 bytes");
  }
  p.message = *message;
  {
    auto txn = ctx.store->begin_read();
    if (!rooms::get_room(*txn, room_id) && !p.block) {
      return Error::not_found("Unknown room id " + room_id);
    }
  }
  forget_old_tasks();
  for (auto& [id, t] : tasks()) {
    if (t->room_id == room_id && t->status == "active") {
      return Error::with(400, "M_UNKNOWN", "A deletion of " + room_id + " is already running");
    }
  }
  auto task = std::make_shared<DeleteTask>();
  task->delete_id = crypto::random_token(16);
  task->room_id = room_id;
  tasks()[task->delete_id] = task;
  return std::pair{task, p};
}

// DELETE /_synapse/admin/v2/rooms/{roomId}
void delete_room_v2(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto started = start_delete(ctx, ex, who);
  if (!started.ok()) return ex->reply_error(started.error());
  auto [task, params] = std::move(started.value());
  auto d = json::object();
  json::set(d, "delete_id", task->delete_id, d.GetAllocator());
  ex->reply_json(200, d);
  run_delete(ctx, task, params, [] {});
}

// DELETE /_synapse/admin/v1/rooms/{roomId}: the same, answered when it has ended.
void delete_room_v1(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  auto started = start_delete(ctx, ex, who);
  if (!started.ok()) return ex->reply_error(started.error());
  auto [task, params] = std::move(started.value());
  run_delete(ctx, task, params, [ex, task = task] {
    if (task->status == "failed") return ex->reply_error(Error::unknown(task->error));
    auto d = json::object();
    json::Value result = task_json(*task, d.GetAllocator());
    ex->reply_json(200, result["shutdown_room"]);
  });
}

// GET /_synapse/admin/v2/rooms/delete_status/{deleteId}
void delete_status_by_id(const http::ExchangePtr& ex) {
  forget_old_tasks();
  auto it = tasks().find(ex->params[0]);
  if (it == tasks().end()) {
    return ex->reply_error(Error::not_found("delete id '" + ex->params[0] + "' not found"));
  }
  auto d = json::object();
  json::Value o = task_json(*it->second, d.GetAllocator());
  ex->reply_json(200, o);
}

// GET /_synapse/admin/v2/rooms/{roomId}/delete_status
void delete_status_by_room(const http::ExchangePtr& ex) {
  const std::string& room_id = ex->params[0];
  if (auto s = check_room_id(room_id); !s.ok()) return ex->reply_error(s.error());
  forget_old_tasks();
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value results(rapidjson::kArrayType);
  for (auto& [id, t] : tasks()) {
    if (t->room_id == room_id) results.PushBack(task_json(*t, a), a);
  }
  if (results.Empty()) {
    return ex->reply_error(Error::not_found("No delete task for room_id '" + room_id + "' found"));
  }
  json::set(d, "results", std::move(results), a);
  ex->reply_json(200, d);
}

}  // namespace

void register_admin_room_routes(http::Router& r, ServerContext& ctx) {
  auto add = [&](const char* method, const std::string& path, AuthedHandler handler) {
    add_admin(r, ctx, method, path, std::move(handler));
  };
  add("GET", kV1 + "/rooms", [&ctx](auto& ex, auto&) { list_rooms(ctx, ex); });
  add("GET", kV1 + "/rooms/{roomId}", [&ctx](auto& ex, auto&) { get_room(ctx, ex); });
  add("GET", kV1 + "/rooms/{roomId}/members", [&ctx](auto& ex, auto&) { get_members(ctx, ex); });
  add("GET", kV1 + "/rooms/{roomId}/state",
      [&ctx](auto& ex, auto& who) { get_state(ctx, ex, who); });
  add("GET", kV1 + "/rooms/{roomId}/block", [&ctx](auto& ex, auto&) { get_block(ctx, ex); });
  add("PUT", kV1 + "/rooms/{roomId}/block",
      [&ctx](auto& ex, auto& who) { put_block(ctx, ex, who); });
  add("DELETE", kV1 + "/rooms/{roomId}",
      [&ctx](auto& ex, auto& who) { delete_room_v1(ctx, ex, who); });
  add("DELETE", kV2 + "/rooms/{roomId}",
      [&ctx](auto& ex, auto& who) { delete_room_v2(ctx, ex, who); });
  add("GET", kV2 + "/rooms/delete_status/{deleteId}",
      [](auto& ex, auto&) { delete_status_by_id(ex); });
  add("GET", kV2 + "/rooms/{roomId}/delete_status",
      [](auto& ex, auto&) { delete_status_by_room(ex); });
}

}  // namespace haven::client
