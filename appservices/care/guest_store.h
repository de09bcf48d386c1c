// haven-care's records of guest links and guest access requests, in its own LMDB environment.
// Records only, no rules (guest_service.h). Reads from any thread; writes block until durable,
// so they are for haven-care's worker thread only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "homeserver/base/result.h"
#include "storage/store.h"

namespace haven::care {

struct GuestLink {
  std::string token_hash;  // key: base64 sha256 of the link token (the token itself is not kept)
  std::string room_id;
  std::string owner;
  int64_t created_ms = 0;
  int64_t expires_ms = 0;
  bool revoked = false;
};

enum class RequestStatus { kPending, kAccepted, kRejected, kRemoved };
std::string_view status_name(RequestStatus s);

struct GuestRequest {
  std::string id;
  std::string room_id;
  std::string link_hash;
  std::string guest_user_id;
  std::string name;
  std::string poll_hash;  // base64 sha256 of the poll token
  RequestStatus status = RequestStatus::kPending;
  int64_t created_ms = 0;
  // Once accepted: the guest's device, and its token until the guest's page has fetched it.
  std::string device_id;
  std::string access_token;
  // Idle tracking (R18): haven's last_seen of the device as last read, and haven-care's time
  // at which it was last seen to change.
  int64_t haven_last_seen = 0;
  int64_t last_active_ms = 0;
};

class GuestStore {
 public:
  explicit GuestStore(storage::Store& store) : store_(store) {}

  std::optional<GuestLink> link(const std::string& token_hash) const;
  Status put_link(const GuestLink& link);

  std::optional<GuestRequest> request(const std::string& id) const;
  std::optional<GuestRequest> request_of_guest(const std::string& guest_user_id) const;
  std::vector<GuestRequest> requests_with(RequestStatus status) const;
  size_t pending_in_room(const std::string& room_id) const;
  Status put_request(const GuestRequest& r);

 private:
  storage::Store& store_;
};

std::string hash_token(std::string_view token);

}  // namespace haven::care
