// Sends delayed events (MSC4140) when they fall due: one loop timer for the earliest scheduled
// event (no polling), re-armed whenever the schedule changes; at start-up the ones that fell
// due while the server was down go out first, soonest first. Loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "homeserver/base/loop.h"
#include "homeserver/base/result.h"
#include "homeserver/rooms/event.h"
#include "homeserver/server_context.h"

namespace haven::client {

class DelayedScheduler {
 public:
  explicit DelayedScheduler(ServerContext& ctx) : ctx_(ctx) {}
  DelayedScheduler(const DelayedScheduler&) = delete;
  DelayedScheduler& operator=(const DelayedScheduler&) = delete;

  // Arms the timer for what the store holds; call once the context is wired.
  void start() { rearm(); }
  // Call after the schedule changed (scheduled, restarted, cancelled).
  void rearm();
  // Sends the scheduled event now. On an error the event stays scheduled when `keep_on_error`
  // (the client's send action may be retried) and is finalised as failed otherwise.
  void send(const std::string& delay_id, bool keep_on_error,
            std::function<void(Result<std::string>)> done);
  // A state event was persisted: other users' delayed events for the same (room, type,
  // state_key) are cancelled, so a vanished client's stale delayed state cannot overwrite it.
  void state_changed(const rooms::Event& event);

 private:
  void fire();
  void record_failure(const std::string& delay_id, const Error& error,
                      std::function<void()> then);

  ServerContext& ctx_;
  std::unique_ptr<Loop::Timer> timer_;
  size_t in_flight_ = 0;    // timer-driven sends not yet finished
  bool batch_failed_ = false;  // the last batch could not write: wait before trying again
};

}  // namespace haven::client
