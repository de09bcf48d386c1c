// The guest rules (R13-R18): guest links of a room's professional owner, guests asking for
// access by knocking as haven-care's users, the owner's answer (from any Matrix client or the
// REST API), the guest's one-time credentials, and removal after an hour without activity.
// All calls run on haven-care's single worker thread, one at a time.
#pragma once

#include <string>
#include <vector>

#include "appservices/care/care_config.h"
#include "appservices/care/clock.h"
#include "appservices/care/guest_store.h"
#include "appservices/care/haven_api.h"
#include "homeserver/base/json.h"

namespace haven::care {

struct CreatedLink {
  std::string url, token;
  int64_t expires_at = 0;
};
struct CreatedRequest {
  std::string request_id, poll_token;
};

class GuestService {
 public:
  GuestService(const CareConfig& config, const Clock& clock, HavenApi& haven, GuestStore& store)
      : config_(config), clock_(clock), haven_(haven), store_(store) {}

  Result<CreatedLink> create_link(const std::string& user_token, const std::string& room_id);
  Status revoke_link(const std::string& user_token, const std::string& room_id,
                     const std::string& link_token);
  Result<CreatedRequest> ask_access(const std::string& link_token, const std::string& name);
  // {status, and once: user_id, access_token, device_id, room_id, homeserver_url}
  Result<json::Document> poll(const std::string& request_id, const std::string& poll_token);
  Result<json::Document> tasks(const std::string& user_token);
  Status accept(const std::string& user_token, const std::string& request_id);
  Status reject(const std::string& user_token, const std::string& request_id);
  // An m.room.member event haven sent in a transaction.
  void on_member_event(const json::Value& event);
  // Removes guests idle for an hour (R18).
  void sweep_idle();

 private:
  Result<std::string> owner_of(const std::string& room_id);
  Status require_guest_links_on();
  Result<GuestLink> usable_link(const std::string& link_token);
  Result<GuestRequest> owned_pending_request(const std::string& user_token,
                                             const std::string& request_id);
  // The owner invited the guest: join as them with their name as nickname, log them in.
  Status let_in(GuestRequest& r);
  void remove_guest(GuestRequest& r, const std::string& reason);
  std::string link_url(const std::string& token) const;

  const CareConfig& config_;
  const Clock& clock_;
  HavenApi& haven_;
  GuestStore& store_;
};

}  // namespace haven::care
