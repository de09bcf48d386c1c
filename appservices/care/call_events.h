// Call signals in room events, as haven-care reads them from its appservice transactions:
// MatrixRTC call memberships (m.call.member, MSC3401/MSC4143, both the per-device form and the
// older `memberships` array) and legacy 1:1 VoIP (m.call.invite/answer/hangup/reject).
// Pure functions on event JSON; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "homeserver/base/json.h"

namespace haven::care {

// A membership without its own expiry counts for this long after it was sent (Element Call's
// own default); a longer one is cut to the cap. A client that stays re-sends its membership.
inline constexpr int64_t kDefaultMembershipLifetimeMs = 4LL * 3600 * 1000;
inline constexpr int64_t kMaxMembershipLifetimeMs = 24LL * 3600 * 1000;
// An m.call.invite rings this long without a `lifetime`, and at most the cap.
inline constexpr int64_t kDefaultInviteLifetimeMs = 60 * 1000;
inline constexpr int64_t kMaxInviteLifetimeMs = 10 * 60 * 1000;

// One device in a MatrixRTC call.
struct RtcDevice {
  std::string slot;  // unique per device: the state key, or state key + device (array form)
  std::string call_id;
  int64_t expires_ms = 0;
};

// An m.call.member state event: the devices its state key holds in calls now. No devices means
// every device of that state key left (content {} or an empty `memberships`).
struct RtcMembership {
  std::string room_id, state_key, sender;
  int64_t ts = 0;
  std::vector<RtcDevice> devices;
};

enum class VoipAction { kInvite, kAnswer, kHangup, kReject };

struct VoipSignal {
  std::string room_id, call_id, sender;
  VoipAction action = VoipAction::kInvite;
  int64_t ts = 0;
  int64_t lifetime_ms = 0;  // kInvite: how long it rings
};

// A member left the room (leave, kick or ban).
struct RoomLeave {
  std::string room_id, user_id;
  int64_t ts = 0;
};

// Each returns nullopt for any other event, or one it cannot read (then it is ignored).
// `now_ms` stands in for a missing origin_server_ts.
std::optional<RtcMembership> parse_rtc_membership(const json::Value& event, int64_t now_ms);
std::optional<VoipSignal> parse_voip(const json::Value& event, int64_t now_ms);
std::optional<RoomLeave> parse_room_leave(const json::Value& event, int64_t now_ms);

// The minutes a call is counted for: every started minute counts in full, so a call of 60
// seconds is 1 minute, one of 60.001 seconds 2, and one that ended as it started still 1.
int64_t call_minutes(int64_t started_ms, int64_t ended_ms);

}  // namespace haven::care
