// Temporary conversations (R19-R22): a professional starts one through haven-care, which creates
// it with the professional's own token (so they are its owner under haven's care rules), lets
// its own user in with the power to redact, announces the deletion time in an
// org.haven.temporary state event, and when the time comes redacts every event through the
// Client-Server API and has haven purge the room (Synapse admin room delete with purge).
// All calls run on haven-care's single worker thread, one at a time.
#pragma once

#include <string>
#include <vector>

#include "appservices/care/care_config.h"
#include "appservices/care/clock.h"
#include "appservices/care/haven_api.h"
#include "appservices/care/temporary_store.h"

namespace haven::care {

// The state event (state_key "") that tells every member when the conversation is deleted:
// content {"deletes_at": ms since the epoch}.
inline constexpr std::string_view kTemporaryStateType = "org.haven.temporary";

struct TemporaryRequest {
  std::string name;
  std::vector<std::string> invite;
};

struct CreatedTemporaryRoom {
  std::string room_id;
  int64_t deletes_at = 0;
};

class TemporaryService {
 public:
  TemporaryService(const CareConfig& config, const Clock& clock, HavenApi& haven,
                   TemporaryStore& store)
      : config_(config), clock_(clock), haven_(haven), store_(store) {}

  // POST /_haven/care/v1/temporary_rooms {"name"?, "invite"?: [user ids]}
  Result<CreatedTemporaryRoom> create(const std::string& user_token, const TemporaryRequest& req);
  // Deletes the conversations whose time has come (R22); returns their room ids.
  std::vector<std::string> delete_due();
  // Whether haven-care manages this temporary conversation.
  bool manages(const std::string& room_id) const { return store_.room(room_id).has_value(); }
  // Tells haven which of its files a decrypted event of a temporary conversation names (an
  // attachment, its thumbnail), so the room's purge deletes them too (R22): haven cannot see
  // into encrypted events.
  void tie_media(const json::Value& event);
  // Updates the org.haven.temporary state event of a room whose deletion time moved.
  Status announce(const std::string& room_id);
  // announce() for every room whose new time is not announced yet (a crash or a failed PUT).
  void announce_pending();

 private:
  std::string service_user() const;
  Status require_temporary_rooms_on();
  Status let_service_in(const std::string& user_token, const std::string& room_id);
  // Redacts every event of the room it can; returns how many it could not.
  size_t redact_all(const std::string& room_id);
  Status purge(const std::string& room_id);

  const CareConfig& config_;
  const Clock& clock_;
  HavenApi& haven_;
  TemporaryStore& store_;
};

// Checks and reads the request body: name at most 255 bytes, at most 50 invitees.
Result<TemporaryRequest> parse_temporary_request(const json::Value& body);

}  // namespace haven::care
