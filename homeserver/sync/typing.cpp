// Typing notifications: who is typing where, in memory only (they are ephemeral and a
// restart forgets them, as clients expect). Loop thread only.
#include <algorithm>

#include "homeserver/base/json.h"
#include "homeserver/server_context.h"
#include "homeserver/sync/notifier.h"
#include "homeserver/sync/streams.h"

namespace haven::streams {

namespace {
constexpr int64_t kExpiryIntervalMs = 1000;
}  // namespace

bool Typing::set(const std::string& room_id, const std::string& user_id, bool typing,
                 int64_t timeout_ms, int64_t now_ms) {
  if (!typing) {
    auto room = rooms_.find(room_id);
    if (room == rooms_.end() || room->second.until.erase(user_id) == 0) return false;
    room->second.changed_at = ++pos_;
    return true;
  }
  int64_t until = now_ms + std::clamp<int64_t>(timeout_ms, 0, kMaxTypingTimeoutMs);
  next_expiry_ = std::min(next_expiry_, until);
  auto& room = rooms_[room_id];
  auto [it, inserted] = room.until.insert_or_assign(user_id, until);
  if (!inserted) return false;
  room.changed_at = ++pos_;
  return true;
}

std::set<std::string> Typing::expire(int64_t now_ms) {
  std::set<std::string> changed;
  if (now_ms < next_expiry_) return changed;
  int64_t next = std::numeric_limits<int64_t>::max();
  for (auto& [room_id, room] : rooms_) {
    bool dropped = false;
    for (auto it = room.until.begin(); it != room.until.end();) {
      if (it->second <= now_ms) {
        it = room.until.erase(it);
        dropped = true;
      } else {
        next = std::min(next, it->second);
        ++it;
      }
    }
    if (dropped) {
      room.changed_at = ++pos_;
      changed.insert(room_id);
    }
  }
  next_expiry_ = next;
  return changed;
}

std::optional<Document> Typing::typing_since(const std::string& room_id, uint64_t since) const {
  if (since > pos_) since = 0;
  auto room = rooms_.find(room_id);
  if (room == rooms_.end() || room->second.changed_at <= since) return std::nullopt;
  // A client starting afresh needs no news that nobody is typing.
  if (since == 0 && room->second.until.empty()) return std::nullopt;
  Document doc;
  doc.SetObject();
  auto& a = doc.GetAllocator();
  json::Value ids(rapidjson::kArrayType);
  for (auto& [user, until] : room->second.until) ids.PushBack(json::str(user, a), a);
  json::Value content(rapidjson::kObjectType);
  json::set(content, "user_ids", std::move(ids), a);
  json::set(doc, "type", "m.typing", a);
  json::set(doc, "content", std::move(content), a);
  return doc;
}

std::vector<std::string> Typing::typers(const std::string& room_id) const {
  std::vector<std::string> out;
  auto room = rooms_.find(room_id);
  if (room == rooms_.end()) return out;
  for (auto& [user, until] : room->second.until) out.push_back(user);
  return out;
}

namespace {
void arm_typing_expiry(ServerContext& ctx) {
  ctx.typing->hold_timer(ctx.loop->at(now_ms() + kExpiryIntervalMs, [&ctx] {
    for (const auto& room_id : ctx.typing->expire(now_ms())) ctx.notifier->notify_room(room_id);
    arm_typing_expiry(ctx);  // replaces (destroys) the timer running this callback
  }));
}
}  // namespace

void start_typing_expiry(ServerContext& ctx) {
  if (!ctx.typing->has_timer()) arm_typing_expiry(ctx);
}

}  // namespace haven::streams
