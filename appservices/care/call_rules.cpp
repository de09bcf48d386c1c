#include "appservices/care/call_rules.h"

#include <algorithm>

namespace haven::care {

namespace {

// Bounds what one call record can hold, whatever clients send.
constexpr size_t kMaxSlotsPerCall = 200;
constexpr size_t kMaxParticipants = 200;
constexpr size_t kMaxCallsPerRoom = 20;

void add_participant(LiveCall& call, const std::string& user_id) {
  auto& p = call.participants;
  if (std::find(p.begin(), p.end(), user_id) == p.end() && p.size() < kMaxParticipants) {
    p.push_back(user_id);
  }
}

LiveCall* find_call(RoomCalls& room, CallKind kind, const std::string& call_id) {
  for (auto& c : room.calls) {
    if (c.kind == kind && c.call_id == call_id) return &c;
  }
  return nullptr;
}

// A new call, or nullptr when the room already holds as many as a room may.
LiveCall* new_call(RoomCalls& room, const std::string& room_id, CallKind kind,
                   const std::string& call_id, int64_t ts, const std::string& owner) {
  if (room.calls.size() >= kMaxCallsPerRoom) return nullptr;
  LiveCall c;
  c.room_id = room_id;
  c.kind = kind;
  c.call_id = call_id;
  c.started_ms = ts;
  c.owner = owner;
  room.calls.push_back(std::move(c));
  room.changed = true;
  return &room.calls.back();
}

// Moves calls[i] into the ledger list; a ringing one just goes.
void end_call(RoomCalls& room, size_t i, int64_t ended_ms, std::string_view reason) {
  LiveCall& c = room.calls[i];
  if (!c.ringing) {
    EndedCall e;
    e.room_id = c.room_id;
    e.kind = c.kind;
    e.call_id = c.call_id;
    e.started_ms = c.started_ms;
    e.ended_ms = std::max(ended_ms, c.started_ms);
    e.minutes = call_minutes(e.started_ms, e.ended_ms);
    e.participants = std::move(c.participants);
    e.owner = c.owner;
    e.end_reason = std::string(reason);
    room.ended.push_back(std::move(e));
  }
  room.calls.erase(room.calls.begin() + static_cast<std::ptrdiff_t>(i));
  room.changed = true;
}

// Ends the MatrixRTC calls that have no device left, at `ts`.
void end_empty_rtc_calls(RoomCalls& room, int64_t ts, std::string_view reason) {
  for (size_t i = room.calls.size(); i-- > 0;) {
    const LiveCall& c = room.calls[i];
    if (c.kind == CallKind::kMatrixRtc && c.slots.empty()) end_call(room, i, ts, reason);
  }
}

void remove_slots_if(RoomCalls& room, const auto& pred) {
  for (auto& c : room.calls) {
    if (c.kind != CallKind::kMatrixRtc) continue;
    auto gone = std::remove_if(c.slots.begin(), c.slots.end(), pred);
    if (gone != c.slots.end()) room.changed = true;
    c.slots.erase(gone, c.slots.end());
  }
}

}  // namespace

std::string_view kind_name(CallKind kind) {
  return kind == CallKind::kLegacy ? "legacy" : "matrixrtc";
}

std::optional<CallKind> parse_kind(std::string_view name) {
  if (name == "legacy") return CallKind::kLegacy;
  if (name == "matrixrtc") return CallKind::kMatrixRtc;
  return std::nullopt;
}

bool RoomCalls::running() const {
  return std::any_of(calls.begin(), calls.end(), [](const LiveCall& c) { return !c.ringing; });
}

int64_t RoomCalls::last_ended_ms() const {
  int64_t last = 0;
  for (const auto& e : ended) last = std::max(last, e.ended_ms);
  return last;
}

// The state key's devices are replaced by the ones the event names.
void apply_membership(RoomCalls& room, const RtcMembership& m, const std::string& owner) {
  remove_slots_if(room, [&](const CallSlot& s) { return s.state_key == m.state_key; });
  for (const auto& d : m.devices) {
    LiveCall* call = find_call(room, CallKind::kMatrixRtc, d.call_id);
    if (!call) call = new_call(room, m.room_id, CallKind::kMatrixRtc, d.call_id, m.ts, owner);
    if (!call || call->slots.size() >= kMaxSlotsPerCall) continue;
    call->slots.push_back(CallSlot{d.slot, m.state_key, m.sender, d.expires_ms});
    add_participant(*call, m.sender);
    room.changed = true;
  }
  end_empty_rtc_calls(room, m.ts, "left");
}

void apply_voip(RoomCalls& room, const VoipSignal& s, const std::string& owner) {
  LiveCall* call = find_call(room, CallKind::kLegacy, s.call_id);
  switch (s.action) {
    case VoipAction::kInvite:
      if (call) return;
      call = new_call(room, s.room_id, CallKind::kLegacy, s.call_id, s.ts, owner);
      if (!call) return;
      call->ringing = true;
      call->ring_expires_ms = s.ts + s.lifetime_ms;
      add_participant(*call, s.sender);
      return;
    case VoipAction::kAnswer:
      // An answer to an invite haven-care never saw still starts the call.
      if (!call) call = new_call(room, s.room_id, CallKind::kLegacy, s.call_id, s.ts, owner);
      if (!call) return;
      if (call->ringing) {
        call->ringing = false;
        call->started_ms = s.ts;
      }
      add_participant(*call, s.sender);
      room.changed = true;
      return;
    case VoipAction::kHangup:
    case VoipAction::kReject:
      if (!call) return;
      end_call(room, static_cast<size_t>(call - room.calls.data()), s.ts,
               s.action == VoipAction::kHangup ? "hangup" : "reject");
      return;
  }
}

// A member who left the room is out of every call in it; a legacy call loses its other side.
void apply_leave(RoomCalls& room, const RoomLeave& leave) {
  remove_slots_if(room, [&](const CallSlot& s) { return s.user_id == leave.user_id; });
  end_empty_rtc_calls(room, leave.ts, "left_room");
  for (size_t i = room.calls.size(); i-- > 0;) {
    const LiveCall& c = room.calls[i];
    if (c.kind != CallKind::kLegacy) continue;
    const auto& p = c.participants;
    if (std::find(p.begin(), p.end(), leave.user_id) != p.end()) {
      end_call(room, i, leave.ts, "left_room");
    }
  }
}

void apply_expiry(RoomCalls& room, int64_t now_ms) {
  for (size_t i = room.calls.size(); i-- > 0;) {
    LiveCall& c = room.calls[i];
    if (c.kind == CallKind::kLegacy) {
      if (c.ringing && c.ring_expires_ms <= now_ms) {
        end_call(room, i, now_ms, "expired");
      } else if (!c.ringing && c.started_ms + kMaxLegacyCallMs <= now_ms) {
        end_call(room, i, c.started_ms + kMaxLegacyCallMs, "timeout");
      }
      continue;
    }
    // The call ends when its last device lapsed, not when the sweep noticed.
    int64_t last_lapse = 0;
    auto gone = std::remove_if(c.slots.begin(), c.slots.end(), [&](const CallSlot& s) {
      if (s.expires_ms > now_ms) return false;
      last_lapse = std::max(last_lapse, s.expires_ms);
      return true;
    });
    if (gone == c.slots.end()) continue;
    c.slots.erase(gone, c.slots.end());
    room.changed = true;
    if (c.slots.empty()) end_call(room, i, last_lapse, "expired");
  }
}

}  // namespace haven::care
