// Scheduling delayed events (MSC4140) from the send and state handlers, which take the
// `org.matrix.msc4140.delay` query parameter as Synapse and matrix-js-sdk use it. Loop thread.
#pragma once

#include <optional>
#include <string>

#include "homeserver/client/common.h"

namespace haven::client {

// The query parameter naming the delay in milliseconds on /send and /state.
inline constexpr const char* kDelayQueryParam = "org.matrix.msc4140.delay";

struct DelayedRequest {
  std::string room_id;
  std::string type;
  std::optional<std::string> state_key;
  json::Document content;
  std::optional<std::string> txn_id;  // for /send and the delayed_event endpoint
};

// Parses a delay given as text (the query parameter): M_INVALID_PARAM unless a positive
// integer, M_MAX_DELAY_EXCEEDED above the configured maximum.
Result<int64_t> parse_delay(const ServerContext& ctx, std::string_view text);

// Schedules the event and answers {"delay_id": ...} or the error.
void schedule_delayed_event(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who,
                            DelayedRequest request, int64_t delay_ms);

}  // namespace haven::client
