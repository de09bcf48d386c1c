#include "homeserver/client/event_format.h"

#include "homeserver/client/relations.h"
#include "homeserver/policy/anonymity.h"
#include "homeserver/rooms/client_format.h"
#include "homeserver/sync/sync_token.h"
#include "storage/keys.h"

namespace haven::client {

json::Value format_event(storage::ReadTxn& txn, const rooms::StoredEvent& ev, const Requester& who,
                         json::Alloc& a, EventFormat format) {
  json::Value out = rooms::to_client_event(*ev.event, a, format == EventFormat::kClient);
  if (auto content = out.FindMember("content"); content != out.MemberEnd()) {
    hide_member_identity(txn, who, *ev.event, content->value, a);
  }
  json::Value unsig(rapidjson::kObjectType);
  json::set(unsig, "age", std::max<int64_t>(0, now_ms() - ev.event->origin_server_ts()), a);
  if (ev.event->sender() == who.user_id) {
    if (auto t = txn.get(storage::Table::kEventTxnIds, ev.event->event_id()); t) {
      storage::KeyReader r(*t);
      auto device = r.str();
      if (device && *device == who.device_id) json::set(unsig, "transaction_id", r.tail(), a);
    }
  }
  if (ev.redacted) {
    if (auto by = rooms::redacted_by(txn, ev.event->event_id()); by) {
      if (auto redaction = rooms::get_event(txn, *by); redaction) {
        json::set(unsig, "redacted_because",
                  rooms::to_client_event(*redaction->event, a, format == EventFormat::kClient), a);
      }
    }
  }
  if (!ev.redacted) add_bundled_relations(txn, ev, who, unsig, a);
  json::set(out, "unsigned", std::move(unsig), a);
  return out;
}

void hide_member_identity(storage::ReadTxn& txn, const Requester& who, const rooms::Event& ev,
                          json::Value& content, json::Alloc& a) {
  if (ev.type() != "m.room.member" || !ev.state_key()) return;
  if (policy::must_hide_identity(who.care, txn, who.user_id, *ev.state_key())) {
    policy::hide_identity(content, a);
  }
}

std::optional<uint64_t> parse_pagination_position(std::string_view token) {
  return parse_pagination_token(token);
}

uint64_t state_group_at_position(storage::ReadTxn& txn, const std::string& room_id, uint64_t pos,
                                 uint64_t fallback) {
  uint64_t group = fallback;
  bool found = false;
  rooms::scan_timeline(txn, room_id, pos, storage::Direction::kBackward,
                       [&](uint64_t, std::string_view id) {
                         if (auto ev = rooms::get_event(txn, std::string(id)); ev) {
                           group = ev->state_group;
                           found = true;
                         }
                         return false;
                       });
  return found ? group : fallback;
}

}  // namespace haven::client
