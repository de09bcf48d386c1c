// When a call in a temporary conversation starts and ends (R23): the calls of one room as
// records, and how call signals change them. A MatrixRTC call starts when its first device
// joins and ends when its last one leaves or lapses; a legacy call starts at the answer and ends
// at hang-up, reject, a participant leaving the room, or after kMaxLegacyCallMs; an unanswered
// invite just lapses. Pure functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "appservices/care/call_events.h"

namespace haven::care {

// A legacy call has no sign of life after the answer: one with neither hang-up nor leave is
// ended this long after it started, so a vanished client cannot keep the room forever.
inline constexpr int64_t kMaxLegacyCallMs = 24LL * 3600 * 1000;

enum class CallKind { kMatrixRtc, kLegacy };
std::string_view kind_name(CallKind kind);
std::optional<CallKind> parse_kind(std::string_view name);

// A device in a MatrixRTC call.
struct CallSlot {
  std::string slot, state_key, user_id;
  int64_t expires_ms = 0;
};

// A call in progress, or (legacy only) ringing.
struct LiveCall {
  std::string room_id;
  CallKind kind = CallKind::kMatrixRtc;
  std::string call_id;
  bool ringing = false;                   // legacy: invited, not answered
  int64_t started_ms = 0;                 // ringing: when the invite was sent
  int64_t ring_expires_ms = 0;            // ringing: when the invite lapses
  std::vector<CallSlot> slots;            // matrixrtc: the devices in it now
  std::vector<std::string> participants;  // everyone who took part, in order of joining
  std::string owner;                      // the conversation's owner when the call started
};

// A finished call, as the ledger keeps it.
struct EndedCall {
  uint64_t seq = 0;  // set when stored
  std::string room_id;
  CallKind kind = CallKind::kMatrixRtc;
  std::string call_id;
  int64_t started_ms = 0, ended_ms = 0, minutes = 0;
  std::vector<std::string> participants;
  std::string owner;
  std::string end_reason;  // left, expired, hangup, reject, left_room, timeout
};

// One room's calls while signals are applied: `ended` collects the calls that finished.
struct RoomCalls {
  std::vector<LiveCall> calls;
  std::vector<EndedCall> ended;
  bool changed = false;
  // A call is in progress (a ringing invite is not).
  bool running() const;
  // When the last of `ended` ended; 0 if none did.
  int64_t last_ended_ms() const;
};

void apply_membership(RoomCalls& room, const RtcMembership& m, const std::string& owner);
void apply_voip(RoomCalls& room, const VoipSignal& s, const std::string& owner);
void apply_leave(RoomCalls& room, const RoomLeave& leave);
// Devices whose membership lapsed, invites that rang out, legacy calls past the cap.
void apply_expiry(RoomCalls& room, int64_t now_ms);

}  // namespace haven::care
