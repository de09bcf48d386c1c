// POST /_haven/admin/v1/rooms/{roomId}/media {"user_id", "media": ["mxc://..."]} (server admins
// and the operator appservice): ties this server's media to a room, so purging the room deletes
// them. For attachments named only inside end-to-end encrypted events, which the server cannot
// read: haven-care, a member of its temporary conversations, decrypts them and says which files
// their events named. Only media that `user_id` uploaded are tied, and only while `user_id` is or
// was a member of the room, so a caller cannot have someone else's files deleted with a room.
#include "homeserver/base/write.h"
#include "homeserver/client/routes.h"
#include "homeserver/media/media_store.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/ids.h"

namespace haven::client {

namespace {

constexpr size_t kMaxMediaPerRequest = 100;
constexpr size_t kMaxMxcBytes = 512;

Result<std::vector<std::string>> parse_media_list(const json::Value& body) {
  auto it = body.FindMember("media");
  if (it == body.MemberEnd() || !it->value.IsArray()) {
    return Error::bad_json("media must be an array of mxc URIs");
  }
  if (it->value.Size() > kMaxMediaPerRequest) {
    return Error::invalid_param("At most 100 media per request");
  }
  std::vector<std::string> uris;
  for (const auto& v : it->value.GetArray()) {
    if (!v.IsString() || v.GetStringLength() > kMaxMxcBytes) {
      return Error::bad_json("media must be an array of mxc URIs");
    }
    uris.emplace_back(v.GetString(), v.GetStringLength());
  }
  return uris;
}

// The local media ids among `uris` that `user_id` uploaded, if `user_id` is or was in the room.
std::vector<std::string> linkable_media(storage::ReadTxn& txn, const std::string& server_name,
                                        const std::string& room_id, const std::string& user_id,
                                        const std::vector<std::string>& uris) {
  std::vector<std::string> ids;
  auto m = rooms::membership(txn, user_id, room_id);
  if (!m || (m->membership != "join" && m->membership != "leave")) return ids;
  for (const std::string& uri : uris) {
    auto id = media::local_media_id(uri, server_name);
    if (!id) continue;
    auto record = media::get_media(txn, *id);
    if (record && !record->pending() && record->uploader == user_id) ids.push_back(*id);
  }
  return ids;
}

void link_media(ServerContext& ctx, const http::ExchangePtr& ex, const Requester&) {
  const std::string room_id = ex->params[0];
  auto body = parse_body(ctx, *ex);
  if (!body.ok()) return ex->reply_error(body.error());
  auto user_id = json::required_string(*body, "user_id");
  if (!user_id.ok()) return ex->reply_error(user_id.error());
  if (!rooms::is_valid_user_id(*user_id)) return ex->reply_error(Error::invalid_param("Invalid user_id"));
  auto uris = parse_media_list(*body);
  if (!uris.ok()) return ex->reply_error(uris.error());
  std::vector<std::string> ids;
  {
    auto txn = ctx.store->begin_read();
    if (!rooms::is_valid_room_id(room_id) || !rooms::get_room(*txn, room_id)) {
      return ex->reply_error(Error::not_found("Unknown room"));
    }
    ids = linkable_media(*txn, ctx.server_name, room_id, *user_id, *uris);
  }
  write<std::vector<std::string>>(
      *ctx.store,
      [room_id, ids, server = ctx.server_name](
          storage::WriteTxn& txn) -> Result<std::vector<std::string>> {
        for (const std::string& id : ids) {
          HAVEN_TRY(check(rooms::link_room_media(txn, room_id, server, id)));
        }
        return ids;
      },
      [ex, server = ctx.server_name](Result<std::vector<std::string>> r) {
        if (!r.ok()) return ex->reply_error(r.error());
        auto d = json::object();
        auto& a = d.GetAllocator();
        json::Value linked(rapidjson::kArrayType);
        for (const std::string& id : *r) linked.PushBack(json::str("mxc://" + server + "/" + id, a), a);
        json::set(d, "linked", std::move(linked), a);
        ex->reply_json(200, d);
      });
}

}  // namespace

void register_admin_room_media_routes(http::Router& r, ServerContext& ctx) {
  add_admin(r, ctx, "POST", "/_haven/admin/v1/rooms/{roomId}/media",
            [&ctx](auto& ex, auto& who) { link_media(ctx, ex, who); });
}

}  // namespace haven::client
