#include "homeserver/rooms/stripped_state.h"

#include "homeserver/rooms/event_store.h"

namespace haven::rooms {
namespace {

void push_pdu(json::Document& out, const Event& event) {
  auto& a = out.GetAllocator();
  json::Value pdu;
  pdu.CopyFrom(event.json(), a);
  pdu.RemoveMember("unsigned");
  out.PushBack(std::move(pdu), a);
}

}  // namespace

json::Document invite_room_state_pdus(storage::ReadTxn& txn, std::string_view room_id,
                                      std::string_view inviter) {
  json::Document out(rapidjson::kArrayType);
  for (std::string_view type : kStrippedStateTypes) {
    if (auto ev = current_state_event(txn, room_id, type, "")) push_pdu(out, *ev);
  }
  if (auto member = current_state_event(txn, room_id, "m.room.member", inviter)) {
    push_pdu(out, *member);
  }
  return out;
}

json::Value strip_event(const json::Value& event, json::Alloc& a) {
  json::Value out(rapidjson::kObjectType);
  if (!event.IsObject()) return out;
  auto type = event.FindMember("type"), key = event.FindMember("state_key"),
       sender = event.FindMember("sender"), content = event.FindMember("content");
  if (type == event.MemberEnd() || !type->value.IsString() || key == event.MemberEnd() ||
      !key->value.IsString() || sender == event.MemberEnd() || !sender->value.IsString() ||
      content == event.MemberEnd() || !content->value.IsObject()) {
    return out;
  }
  out.AddMember("type", json::Value(type->value, a), a);
  out.AddMember("state_key", json::Value(key->value, a), a);
  out.AddMember("sender", json::Value(sender->value, a), a);
  out.AddMember("content", json::Value(content->value, a), a);
  return out;
}

}  // namespace haven::rooms
