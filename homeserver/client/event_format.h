// Events as clients see them: the ClientEvent form plus `unsigned` (age, transaction_id for
// the sending device, redacted_because, bundled relations). Also the small position helpers
// the room read endpoints share. Reads through a ReadTxn; loop thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "homeserver/client/common.h"
#include "homeserver/rooms/event_store.h"

namespace haven::client {

enum class EventFormat { kClient, kSync };  // kSync omits room_id

json::Value format_event(storage::ReadTxn& txn, const rooms::StoredEvent& ev,
                         const Requester& who, json::Alloc& a, EventFormat format);

// The care rules' anonymity (R12): when `ev` is the m.room.member event of someone who is not
// the viewer's contact, `content` (its content as served) keeps only their per-room nickname.
void hide_member_identity(storage::ReadTxn& txn, const Requester& who, const rooms::Event& ev,
                          json::Value& content, json::Alloc& a);

// A pagination or sync token's position in the events stream.
std::optional<uint64_t> parse_pagination_position(std::string_view token);

// The room's state group just after stream position `pos` (the newest event at or before it);
// `fallback` when the room had no events by then.
uint64_t state_group_at_position(storage::ReadTxn& txn, const std::string& room_id, uint64_t pos,
                                 uint64_t fallback);

}  // namespace haven::client
