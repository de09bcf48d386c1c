#include "appservices/interest.h"

#include "homeserver/base/json.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/room_details.h"
#include "storage/keys.h"

namespace haven::appservice {

const std::vector<std::string>& RoomScope::aliases() {
  if (aliases_) return *aliases_;
  aliases_.emplace();
  std::string prefix = storage::KeyBuilder().str(room_id_).take();
  txn_.scan(storage::Table::kRoomAliasesByRoom, prefix, {}, storage::Direction::kForward,
            [&](std::string_view key, std::string_view) {
              aliases_->emplace_back(key.substr(prefix.size()));
              return true;
            });
  // The canonical alias and its alternatives name the room too, wherever they were created.
  if (auto ev = rooms::current_state_event(txn_, room_id_, "m.room.canonical_alias", ""); ev) {
    const auto& content = ev->content();
    if (content.IsObject()) {
      std::string alias = json::get_string(content, "alias");
      if (!alias.empty()) aliases_->push_back(alias);
      auto alt = content.FindMember("alt_aliases");
      if (alt != content.MemberEnd() && alt->value.IsArray()) {
        for (const auto& a : alt->value.GetArray()) {
          if (a.IsString()) aliases_->emplace_back(a.GetString(), a.GetStringLength());
        }
      }
    }
  }
  return *aliases_;
}

const std::vector<std::string>& RoomScope::joined() {
  if (!joined_) joined_ = rooms::joined_members(txn_, room_id_);
  return *joined_;
}

bool RoomScope::room_interests(const AppService& service) {
  if (auto it = room_answer_.find(&service); it != room_answer_.end()) return it->second;
  bool yes = service.is_interested_in_room_id(room_id_);
  for (size_t i = 0; !yes && i < aliases().size(); ++i) {
    yes = service.is_interested_in_alias(aliases()[i]);
  }
  for (size_t i = 0; !yes && i < joined().size(); ++i) {
    yes = service.is_interested_in_user(joined()[i]);
  }
  room_answer_[&service] = yes;
  return yes;
}

bool RoomScope::event_interests(const AppService& service, const rooms::Event& event) {
  if (service.is_interested_in_user(event.sender())) return true;
  if (event.type() == "m.room.member" && event.state_key() &&
      service.is_interested_in_user(*event.state_key())) {
    return true;
  }
  return room_interests(service);
}

}  // namespace haven::appservice
