// The test clock, /_haven/admin/v1/testing/clock (server admins only), registered only with
// testing.fake_clock: true, so everywhere else it answers 404 like any unknown endpoint.
// Moving the clock moves now_ms() for the whole server and re-arms every deadline timer.
#include "homeserver/client/routes.h"

namespace haven::client {

namespace {

// Ten years: far enough for any test, small enough that adding it cannot overflow.
constexpr int64_t kMaxAdvanceMs = int64_t{10} * 366 * 24 * 60 * 60 * 1000;

void reply_now(const http::ExchangePtr& ex) {
  auto d = json::object();
  json::set(d, "now_ms", now_ms(), d.GetAllocator());
  ex->reply_json(200, d);
}

// POST /_haven/admin/v1/testing/clock {"advance_ms": N}
void advance_test_clock(ServerContext& ctx, const http::ExchangePtr& ex, const Requester&) {
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto advance = json::optional_int(*body, "advance_ms");
  if (!advance.ok()) return ex->reply_error(advance.error());
  if (!*advance) return ex->reply_error(Error::missing_param("advance_ms is required"));
  if (**advance <= 0 || **advance > kMaxAdvanceMs) {
    return ex->reply_error(
        Error::invalid_param("advance_ms must be a positive number of milliseconds, at most "
                             "ten years"));
  }
  advance_clock(**advance);
  ctx.loop->clock_advanced();
  reply_now(ex);
}

}  // namespace

void register_testing_routes(http::Router& r, ServerContext& ctx) {
  if (!ctx.config.testing.fake_clock) return;
  add_admin(r, ctx, "GET", "/_haven/admin/v1/testing/clock",
            [](auto& ex, auto&) { reply_now(ex); });
  add_admin(r, ctx, "POST", "/_haven/admin/v1/testing/clock",
            [&ctx](auto& ex, auto& who) { advance_test_clock(ctx, ex, who); });
}

}  // namespace haven::client
