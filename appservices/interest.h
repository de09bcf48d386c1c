// Whether an application service is interested in a room's events: the spec's rule (a room id
// or alias in its namespaces, the event's sender or target in its user namespaces, or one of
// its users joined to the room). Reads through any ReadTxn; one RoomScope per room, reused
// for the events of a batch.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "appservices/registry.h"
#include "homeserver/rooms/event.h"
#include "storage/store.h"

namespace haven::appservice {

class RoomScope {
 public:
  RoomScope(storage::ReadTxn& txn, std::string room_id) : txn_(txn), room_id_(std::move(room_id)) {}

  // The room as a whole: its id or one of its aliases matches, or one of the service's users
  // is joined to it.
  bool room_interests(const AppService& service);
  // The room, or the event's sender or membership target.
  bool event_interests(const AppService& service, const rooms::Event& event);

 private:
  const std::vector<std::string>& aliases();
  const std::vector<std::string>& joined();

  storage::ReadTxn& txn_;
  std::string room_id_;
  std::optional<std::vector<std::string>> aliases_;
  std::optional<std::vector<std::string>> joined_;
  std::map<const AppService*, bool> room_answer_;
};

}  // namespace haven::appservice
