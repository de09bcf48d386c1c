// Client-Server API: uploading and downloading filters (only your own).
#include "homeserver/base/write.h"
#include "homeserver/client/routes.h"
#include "homeserver/sync/filter.h"

namespace haven::client {

namespace {

// POST /user/{userId}/filter
void define_filter(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  if (ex->params[0] != who.user_id) {
    return ex->reply_error(Error::forbidden("Cannot create filters for other users"));
  }
  if (ex->body().size() > sync::kMaxFilterBytes) {
    return ex->reply_error(Error::too_large("The filter is larger than 64 KiB"));
  }
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  if (auto f = sync::parse_filter(*body); !f.ok()) return ex->reply_error(f.error());
  write<std::string>(
      *ctx.store,
      [user_id = who.user_id, text = json::to_string(*body)](storage::WriteTxn& txn) {
        return sync::store_filter(txn, user_id, text);
      },
      [ex](Result<std::string> r) {
        if (!r.ok()) return ex->reply_error(r.error());
        auto d = json::object();
        json::set(d, "filter_id", r.value(), d.GetAllocator());
        ex->reply_json(200, d);
      });
}

// GET /user/{userId}/filter/{filterId}
void get_filter(ServerContext& ctx, const http::ExchangePtr& ex, const Requester& who) {
  if (ex->params[0] != who.user_id) {
    return ex->reply_error(Error::forbidden("Cannot get filters of other users"));
  }
  auto txn = ctx.store->begin_read();
  auto text = sync::load_filter(*txn, who.user_id, ex->params[1]);
  if (!text) return ex->reply_error(Error::not_found("No such filter"));
  ex->reply_json(200, *text);
}

}  // namespace

void register_filter_routes(http::Router& r, ServerContext& ctx) {
  add_authed(r, ctx, "POST", v3("/user/{userId}/filter"),
             [&ctx](auto& ex, auto& who) { define_filter(ctx, ex, who); });
  add_authed(r, ctx, "GET", v3("/user/{userId}/filter/{filterId}"),
             [&ctx](auto& ex, auto& who) { get_filter(ctx, ex, who); });
}

}  // namespace haven::client
