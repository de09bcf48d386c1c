// Client-Server API: /relations, /threads and bundled aggregations.
#include "homeserver/client/relations.h"

#include <limits>

#include "homeserver/client/event_format.h"
#include "homeserver/rooms/client_format.h"
#include "homeserver/rooms/room_access.h"
#include "homeserver/sync/sync_token.h"

namespace haven::client {

namespace {

using storage::Direction;

// The newest edit of `ev` by its own sender (edits by others are not valid replacements).
std::optional<rooms::StoredEvent> latest_edit(storage::ReadTxn& txn, const rooms::StoredEvent& ev) {
  std::optional<rooms::StoredEvent> found;
  rooms::scan_relations(txn, ev.event->event_id(), "m.replace", 0, Direction::kBackward,
                        [&](uint64_t, std::string_view, std::string_view id) {
                          auto edit = rooms::get_event(txn, std::string(id));
                          if (!edit || edit->redacted) return true;
                          if (edit->event->sender() != ev.event->sender()) return true;
                          if (edit->event->type() != ev.event->type()) return true;
                          found = std::move(edit);
                          return false;
                        });
  return found;
}

void add_thread_summary(storage::ReadTxn& txn, const rooms::StoredEvent& ev, const Requester& who,
                        json::Value& relations, json::Alloc& a) {
  int64_t count = 0;
  bool participated = ev.event->sender() == who.user_id;
  std::optional<rooms::StoredEvent> latest;
  rooms::scan_relations(txn, ev.event->event_id(), "m.thread", 0, Direction::kBackward,
                        [&](uint64_t, std::string_view, std::string_view id) {
                          auto reply = rooms::get_event(txn, std::string(id));
                          if (!reply) return true;
                          ++count;
                          if (reply->event->sender() == who.user_id) participated = true;
                          if (!latest) latest = std::move(reply);
                          return count < 10000;
                        });
  if (!latest) return;
  json::Value thread(rapidjson::kObjectType);
  json::Value latest_json(rapidjson::kObjectType);
  latest_json = rooms::to_client_event(*latest->event, a, true);
  json::set(thread, "latest_event", std::move(latest_json), a);
  json::set(thread, "count", count, a);
  json::set(thread, "current_user_participated", participated, a);
  json::set(relations, "m.thread", std::move(thread), a);
}

void add_references(storage::ReadTxn& txn, const rooms::StoredEvent& ev, json::Value& relations,
                    json::Alloc& a) {
  json::Value chunk(rapidjson::kArrayType);
  rooms::scan_relations(txn, ev.event->event_id(), "m.reference", 0, Direction::kForward,
                        [&](uint64_t, std::string_view, std::string_view id) {
                          json::Value ref(rapidjson::kObjectType);
                          json::set(ref, "event_id", id, a);
                          chunk.PushBack(std::move(ref), a);
                          return chunk.Size() < 100;
                        });
  if (chunk.Empty()) return;
  json::Value refs(rapidjson::kObjectType);
  json::set(refs, "chunk", std::move(chunk), a);
  json::set(relations, "m.reference", std::move(refs), a);
}

}  // namespace

void add_bundled_relations(storage::ReadTxn& txn, const rooms::StoredEvent& ev,
                           const Requester& who, json::Value& unsig, json::Alloc& a) {
  json::Value relations(rapidjson::kObjectType);
  if (auto edit = latest_edit(txn, ev); edit) {
    json::set(relations, "m.replace", rooms::to_client_event(*edit->event, a, true), a);
  }
  add_thread_summary(txn, ev, who, relations, a);
  add_references(txn, ev, relations, a);
  if (relations.MemberCount() > 0) json::set(unsig, "m.relations", std::move(relations), a);
}

namespace {

// GET /_matrix/client/v1/rooms/{roomId}/relations/{eventId}[/{relType}[/{eventType}]]
void get_relations(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  const std::string& room_id = ex->params[0];
  const std::string& parent = ex->params[1];
  std::string rel_type = ex->params.size() > 2 ? ex->params[2] : "";
  std::string event_type = ex->params.size() > 3 ? ex->params[3] : "";
  auto txn = ctx.store->begin_read();
  auto access = rooms::room_access(*txn, who.user_id, room_id);
  if (!access.ok()) return ex->reply_error(access.error());
  auto parent_ev = rooms::get_event(*txn, parent);
  if (!parent_ev || parent_ev->event->room_id() != room_id ||
      !rooms::may_see_event(*txn, who.user_id, *parent_ev, *access)) {
    return ex->reply_error(Error::not_found("Event not found"));
  }
  int64_t limit = 50;
  if (auto l = ex->query("limit"); l) limit = std::clamp<int64_t>(std::atoll(l->c_str()), 1, 1000);
  bool forward = ex->query("dir").value_or("b") == "f";
  uint64_t from = 0;
  if (auto f = ex->query("from"); f) {
    auto p = parse_pagination_token(*f);
    if (!p) return ex->reply_error(Error::invalid_param("Invalid 'from' token"));
    from = *p;
  }
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value chunk(rapidjson::kArrayType);
  uint64_t last_pos = 0;
  bool more = false;
  rooms::scan_relations(*txn, parent, rel_type, rel_type.empty() ? 0 : from,
                        forward ? Direction::kForward : Direction::kBackward,
                        [&](uint64_t pos, std::string_view, std::string_view id) {
                          if (from && (forward ? pos < from : pos > from)) return true;
                          if (static_cast<int64_t>(chunk.Size()) >= limit) {
                            more = true;
                            return false;
                          }
                          auto ev = rooms::get_event(*txn, std::string(id));
                          if (!ev || !rooms::may_see_event(*txn, who.user_id, *ev, *access))
                            return true;
                          if (!event_type.empty() && ev->event->type() != event_type) return true;
                          chunk.PushBack(format_event(*txn, *ev, who, a, EventFormat::kClient), a);
                          last_pos = forward ? pos + 1 : pos - 1;
                          return true;
                        });
  json::set(d, "chunk", std::move(chunk), a);
  if (more) json::set(d, "next_batch", topological_token(last_pos), a);
  ex->reply_json(200, d);
}

// GET /_matrix/client/v1/rooms/{roomId}/threads
void get_threads(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  const std::string& room_id = ex->params[0];
  auto txn = ctx.store->begin_read();
  auto access = rooms::room_access(*txn, who.user_id, room_id);
  if (!access.ok()) return ex->reply_error(access.error());
  bool only_mine = ex->query("include").value_or("all") == "participated";
  int64_t limit = 50;
  if (auto l = ex->query("limit"); l) limit = std::clamp<int64_t>(std::atoll(l->c_str()), 1, 1000);
  // Thread roots in order of their newest reply, newest first.
  std::map<uint64_t, std::string, std::greater<>> roots;
  std::set<std::string> seen;
  rooms::scan_timeline(*txn, room_id, std::numeric_limits<uint64_t>::max(), Direction::kBackward,
                       [&](uint64_t pos, std::string_view id) {
                         if (pos > access->until_pos) return true;
                         auto ev = rooms::get_event(*txn, std::string(id));
                         if (!ev) return true;
                         auto rel = ev->event->content().FindMember("m.relates_to");
                         if (rel == ev->event->content().MemberEnd() || !rel->value.IsObject()) {
                           return true;
                         }
                         if (json::get_string(rel->value, "rel_type") != "m.thread") return true;
                         std::string root = json::get_string(rel->value, "event_id");
                         if (seen.insert(root).second) roots.emplace(pos, root);
                         return static_cast<int64_t>(roots.size()) < limit;
                       });
  auto d = json::object();
  auto& a = d.GetAllocator();
  json::Value chunk(rapidjson::kArrayType);
  for (auto& [pos, root] : roots) {
    auto ev = rooms::get_event(*txn, root);
    if (!ev || !rooms::may_see_event(*txn, who.user_id, *ev, *access)) continue;
    json::Value formatted = format_event(*txn, *ev, who, a, EventFormat::kClient);
    if (only_mine) {
      auto u = formatted.FindMember("unsigned");
      bool mine = ev->event->sender() == who.user_id;
      if (u != formatted.MemberEnd()) {
        auto rel = u->value.FindMember("m.relations");
        if (rel != u->value.MemberEnd()) {
          auto th = rel->value.FindMember("m.thread");
          if (th != rel->value.MemberEnd())
            mine = json::get_bool(th->value, "current_user_participated");
        }
      }
      if (!mine) continue;
    }
    chunk.PushBack(std::move(formatted), a);
  }
  json::set(d, "chunk", std::move(chunk), a);
  ex->reply_json(200, d);
}

}  // namespace

void register_relation_routes(http::Router& r, ServerContext& ctx) {
  const std::string base = "/_matrix/client/v1/rooms/{roomId}";
  for (const char* suffix : {"/relations/{eventId}", "/relations/{eventId}/{relType}",
                             "/relations/{eventId}/{relType}/{eventType}"}) {
    add_authed(r, ctx, "GET", base + suffix,
               [&ctx](auto& ex, auto& who) { get_relations(ctx, ex, who); });
  }
  add_authed(r, ctx, "GET", base + "/threads",
             [&ctx](auto& ex, auto& who) { get_threads(ctx, ex, who); });
}

}  // namespace haven::client
