// Everything a request handler needs, wired once by main: config, loop, workers, store, the
// server's signing key and the services built on them. Owned by main; used on the loop thread
// (the store and workers are thread-safe themselves).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "conf/config.h"
#include "crypto/ed25519.h"
#include "homeserver/base/loop.h"
#include "storage/store.h"

namespace haven {

class Notifier;
class RateLimiter;
namespace client { class UiaSessions; class DelayedScheduler; }
namespace streams { class Typing; }
namespace push { class UnreadCache; class PushSender; }
namespace policy { class CarePolicy; }
namespace sync { class SlidingConnections; }
namespace media { class MediaStore; }
namespace appservice { class AppServices; }
namespace email { class EmailNotifier; }
namespace rooms { class Outbound; class RemoteMembership; class RemoteDirectory; }
namespace e2ee { class RemoteKeys; }

struct ServerContext {
  conf::Config config;
  std::string server_name;
  Loop* loop = nullptr;
  WorkerPool* workers = nullptr;
  storage::Store* store = nullptr;
  const crypto::SigningKey* signing_key = nullptr;
  Notifier* notifier = nullptr;
  RateLimiter* rate_limiter = nullptr;
  client::UiaSessions* uia = nullptr;
  streams::Typing* typing = nullptr;
  push::UnreadCache* unread = nullptr;
  push::PushSender* push_sender = nullptr;  // delivers push notifications to gateways
  const policy::CarePolicy* care = nullptr;  // nullptr when care.enabled is false
  const media::MediaStore* media = nullptr;   // uploaded files (content repository)
  appservice::AppServices* appservices = nullptr;  // registrations and their transaction queues
  email::EmailNotifier* email = nullptr;      // nullptr when email is not configured
  sync::SlidingConnections* sliding = nullptr;  // sliding sync's per-connection state
  client::DelayedScheduler* delayed_events = nullptr;  // sends delayed events (MSC4140) when due
  rooms::Outbound* outbound = nullptr;  // PDUs and EDUs to other servers; nullptr: no federation
  e2ee::RemoteKeys* remote_keys = nullptr;  // key queries to other servers; nullptr: none
  // Joins, leaves and invites through other servers; nullptr without a federation listener.
  rooms::RemoteMembership* remote_membership = nullptr;
  // Other servers' published room directories; nullptr without a federation listener.
  rooms::RemoteDirectory* remote_directory = nullptr;
};

}  // namespace haven
