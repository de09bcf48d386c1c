#include "homeserver/client/remote_invite.h"

#include "homeserver/base/write.h"
#include "homeserver/client/room_send.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/remote_membership.h"
#include "homeserver/rooms/room_purge.h"
#include "homeserver/rooms/stripped_state.h"

namespace haven::client {
namespace {

void append_countersigned(ServerContext& ctx, const rooms::LocalServer& server,
                          const rooms::EventPtr& invite, std::function<void(Status)> done) {
  write<bool>(
      *ctx.store,
      [server, invite](storage::WriteTxn& txn) -> Result<bool> {
        auto sent = rooms::append_built_event(txn, server, invite);
        if (!sent.ok()) return std::move(sent).error();
        return true;
      },
      [&ctx, invite, done = std::move(done)](Result<bool> appended) {
        if (!appended.ok()) return done(std::move(appended).error());
        done(Status{});
        notify_sent(ctx, *invite);
      });
}

}  // namespace

void invite_remote_user(ServerContext& ctx, const std::string& inviter, const std::string& room_id,
                        const std::string& target, json::Document content,
                        std::function<void(Status)> done) {
  if (!ctx.remote_membership) return done(Error::forbidden("This server does not federate"));
  auto room_state = std::make_shared<json::Document>();
  {
    auto txn = ctx.store->begin_read();
    if (rooms::room_block(*txn, room_id)) {
      return done(Error::forbidden("This room has been blocked on this server"));
    }
    *room_state = rooms::invite_room_state_pdus(*txn, room_id, inviter);
  }
  auto draft = std::make_shared<rooms::EventDraft>(
      make_draft(room_id, inviter, "m.room.member", target, std::move(content)));
  auto built = std::make_shared<rooms::EventPtr>();
  rooms::LocalServer server = local_server(ctx);
  write<bool>(
      *ctx.store,
      [server, draft, built](storage::WriteTxn& txn) -> Result<bool> {
        auto ev = rooms::prepare_event(txn, server, clone_draft(*draft));
        if (!ev.ok()) return std::move(ev).error();
        *built = *ev;
        return false;  // nothing written: the invite is appended once countersigned
      },
      [&ctx, built, room_state, server, done = std::move(done)](Result<bool> r) mutable {
        if (!r.ok()) return done(std::move(r).error());
        ctx.remote_membership->invite(
            *built, std::move(*room_state),
            [&ctx, server, done = std::move(done)](Result<rooms::EventPtr> signed_invite) mutable {
              if (!signed_invite.ok()) return done(std::move(signed_invite).error());
              append_countersigned(ctx, server, *signed_invite, std::move(done));
            });
      });
}

}  // namespace haven::client
