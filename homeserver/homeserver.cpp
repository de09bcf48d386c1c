#include "homeserver/homeserver.h"

#include <event2/event.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "appservices/appservices.h"
#include "crypto/random.h"
#include "federation/federation.h"
#include "federation/membership.h"
#include "federation/outbox.h"
#include "federation/remote_devices.h"
#include "federation/remote_directory.h"
#include "homeserver/accounts/account_store.h"
#include "homeserver/base/rate_limiter.h"
#include "homeserver/base/write.h"
#include "homeserver/client/delayed_scheduler.h"
#include "homeserver/client/federation_edus.h"
#include "homeserver/client/keys.h"
#include "homeserver/client/room_send.h"
#include "homeserver/client/routes.h"
#include "homeserver/client/uia.h"
#include "homeserver/email/notifier.h"
#include "homeserver/http/server.h"
#include "homeserver/media/media_store.h"
#include "homeserver/policy/care_rules.h"
#include "homeserver/push/push_rules.h"
#include "homeserver/push/push_sender.h"
#include "homeserver/push/pushers.h"
#include "homeserver/rooms/at_rest_migration.h"
#include "homeserver/server_context.h"
#include "homeserver/sync/notifier.h"
#include "homeserver/sync/sliding_connections.h"
#include "homeserver/sync/streams.h"
#include "storage/lmdb_store.h"

namespace haven {

namespace {

// Federation bodies (a transaction carries up to 50 PDUs and 100 EDUs) are bigger than
// client ones.
constexpr size_t kFederationMaxBodyBytes = 4 << 20;

std::optional<crypto::SigningKey> load_or_create_signing_key(const std::string& path) {
  std::ifstream in(path);
  if (in) {
    std::string line;
    std::getline(in, line);
    return crypto::SigningKey::from_file_line(line);
  }
  auto key = crypto::SigningKey::generate("a_" + crypto::random_token(4));
  std::ofstream out(path, std::ios::trunc);
  out << key.to_file_line() << "\n";
  out.close();
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  if (!out) return std::nullopt;
  spdlog::info("generated signing key {} in {}", key.key_id(), path);
  return key;
}

// Opens the store. A store written before per-room at-rest keys has its events sealed once;
// their plain copies are then only in LMDB's freed pages, which a compacting copy removes before
// the store is opened again. nullptr (logged) on failure.
std::unique_ptr<storage::Store> open_sealed_store(const storage::StoreOptions& options,
                                                  const storage::Store::Post& post) {
  std::string error;
  auto store = storage::open_lmdb_store(options, post, &error);
  if (!store) {
    spdlog::error("cannot open the database in {}: {}", options.path, error);
    return nullptr;
  }
  size_t sealed = 0;
  if (auto s = rooms::seal_plain_rows_once(*store, &sealed); !s.ok()) {
    spdlog::error("cannot seal the stored events with their rooms' at-rest keys: {}", s.message());
    return nullptr;
  }
  if (sealed == 0) return store;
  spdlog::info("sealed {} events stored before at-rest keys; compacting the database", sealed);
  store->close();
  store.reset();
  if (auto s = storage::LmdbStore::compact(options.path); !s.ok()) {
    spdlog::error("cannot compact the database in {}: {}", options.path, s.message());
    return nullptr;
  }
  store = storage::open_lmdb_store(options, post, &error);
  if (!store) spdlog::error("cannot open the database in {}: {}", options.path, error);
  return store;
}

struct SignalHandlers {
  struct event* term = nullptr;
  struct event* intr = nullptr;
  ~SignalHandlers() {
    if (term) event_free(term);
    if (intr) event_free(intr);
  }
};

}  // namespace

int serve(const conf::Config& config) {
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    spdlog::error("cannot create data_dir {}: {}", config.data_dir, ec.message());
    return 1;
  }
  auto key = load_or_create_signing_key(config.signing_key_file());
  if (!key) {
    spdlog::error("signing key {} is unreadable or could not be written",
                  config.signing_key_file());
    return 1;
  }

  Loop loop;
  WorkerPool workers(config.worker_threads);
  storage::StoreOptions store_options;
  store_options.path = config.data_dir + "/db";
  store_options.initial_map_size = config.lmdb_map_size_mb << 20;
  store_options.max_map_size = config.lmdb_max_map_size_mb << 20;
  std::filesystem::create_directories(store_options.path, ec);
  std::string error;
  auto store = open_sealed_store(store_options,
                                 [&loop](std::function<void()> fn) { loop.post(std::move(fn)); });
  if (!store) return 1;
  if (auto s = store->run(accounts::build_email_index_once); !s.ok()) {
    spdlog::error("cannot index email addresses: {}", s.message());
    return 1;
  }

  media::MediaStore media_store(config.media_store_dir());
  if (auto s = media_store.init(); !s.ok()) {
    spdlog::error("{}", s.error().message);
    return 1;
  }

  appservice::AppServices appservices(config, *store);
  if (auto s = appservices.start(); !s.ok()) {
    spdlog::error("{}", s.error().message);
    return 1;
  }

  RateLimiter rate_limiter;
  client::UiaSessions uia;
  Notifier notifier(*store);
  streams::Typing typing;
  push::UnreadCache unread;
  // State ids start at the start time in microseconds: a pos from before a restart names none.
  sync::SlidingConnections sliding(static_cast<uint64_t>(now_ms()) * 1000);
  // A pushkey its gateway rejected is removed from every user.
  push::PushSender push_sender(loop, [&store](const std::string& app_id, const std::string& key) {
    write<bool>(
        *store,
        [app_id, key](storage::WriteTxn& txn) -> Result<bool> {
          HAVEN_TRY(check(push::delete_pushkey(txn, app_id, key)));
          return true;
        },
        [](Result<bool>) {});
  });
  std::optional<policy::CarePolicy> care;
  if (config.care.enabled) {
    std::vector<std::string> service_users;
    for (const auto& registration : config.app_services) {
      if (registration.operator_api) {
        service_users.push_back("@" + registration.sender_localpart + ":" + config.server_name);
      }
    }
    care.emplace(config.care, config.server_name, std::move(service_users));
  }
  ServerContext ctx;
  ctx.config = config;
  ctx.server_name = config.server_name;
  ctx.loop = &loop;
  ctx.workers = &workers;
  ctx.store = store.get();
  ctx.signing_key = &*key;
  ctx.rate_limiter = &rate_limiter;
  ctx.uia = &uia;
  ctx.notifier = &notifier;
  ctx.typing = &typing;
  ctx.unread = &unread;
  ctx.push_sender = &push_sender;
  ctx.care = care ? &*care : nullptr;
  ctx.media = &media_store;
  ctx.appservices = &appservices;
  std::optional<email::EmailNotifier> email_notifier;
  if (config.email.enabled()) {
    email_notifier.emplace(ctx);
    ctx.email = &*email_notifier;
    email_notifier->start();
  }
  if (config.testing.fake_clock) {
    spdlog::warn("testing.fake_clock is on: server admins can move the clock");
  }
  ctx.sliding = &sliding;
  client::DelayedScheduler delayed_events(ctx);
  ctx.delayed_events = &delayed_events;
  streams::start_typing_expiry(ctx);
  streams::PresenceSweep presence_sweep(ctx);

  http::Router router;
  client::register_client_routes(router, ctx);
  http::Server client_server(loop, router, config.max_request_body_bytes,
                             config.media_max_upload_size_mb << 20, media_store.tmp_dir());
  if (!client_server.listen(config.client_listener.bind_address, config.client_listener.port,
                            &error)) {
    spdlog::error("client listener: {}", error);
    return 1;
  }
  spdlog::info("haven {} listening for clients on {}:{}", config.server_name,
               config.client_listener.bind_address, client_server.bound_port());

  // The federation listener, when listeners.federation.port is not 0.
  std::optional<federation::Federation> fed;
  http::Router fed_router;
  std::optional<http::Server> fed_server;
  std::optional<federation::Outbox> outbox;
  std::optional<federation::RemoteDevices> remote_devices;
  std::optional<federation::Membership> membership;
  std::optional<federation::RemoteDirectory> remote_directory;
  if (config.federation_listener.port != 0) {
    fed.emplace(config, loop, *store, *key);
    if (!fed->ok()) {
      spdlog::error("federation: {}", fed->error());
      return 1;
    }
    outbox.emplace(loop, *store, config.server_name, fed->allowed(),
                   [&fed](federation::OutboundRequest request,
                          federation::FederationClient::Done done) {
                     fed->client().send(std::move(request), std::move(done));
                   });
    ctx.outbound = &*outbox;
    fed->verifier().on_heard_from(
        [&outbox](const std::string& origin) { outbox->server_up(origin); });
    remote_devices.emplace(*store, fed->client(), [&ctx](const std::string& user_id) {
      client::notify_device_list_changed(ctx, user_id);
    });
    ctx.remote_keys = &*remote_devices;
    // Events received from other servers wake syncs, appservices and pushers as local ones do.
    fed->start_inbound(workers, [&ctx](const rooms::EventPtr& event) {
      client::notify_sent(ctx, *event);
    });
    // Remote users' joins and invites arriving in /send meet the care rules too.
    fed->intake()->set_policy(ctx.care);
    client::register_federation_edus(fed->edus(), ctx);
    fed->edus().add("m.device_list_update",
                    [&remote_devices](const std::string& origin, const json::Value& content) {
                      remote_devices->on_device_list_update(origin, content);
                    });
    fed->edus().add("m.signing_key_update",
                    [&remote_devices](const std::string& origin, const json::Value& content) {
                      remote_devices->on_signing_key_update(origin, content);
                    });
    fed->register_routes(fed_router);
    membership.emplace(config, *store, fed->client(), fed->keys(), fed->intake(), &*outbox,
                       client::local_server(ctx),
                       [&ctx](const rooms::EventPtr& event) { client::notify_sent(ctx, *event); });
    membership->register_routes(fed_router, fed->verifier());
    ctx.remote_membership = &*membership;
    remote_directory.emplace(config, fed->client());
    ctx.remote_directory = &*remote_directory;
    fed_server.emplace(loop, fed_router, kFederationMaxBodyBytes);
    const bool tls = !config.tls_certificate_path.empty();
    if (tls && !fed_server->use_tls(config.tls_certificate_path, config.tls_private_key_path,
                                    &error)) {
      spdlog::error("federation listener: {}", error);
      return 1;
    }
    if (!fed_server->listen(config.federation_listener.bind_address,
                            config.federation_listener.port, &error)) {
      spdlog::error("federation listener: {}", error);
      return 1;
    }
    spdlog::info("listening for federation ({}) on {}:{}", tls ? "HTTPS" : "plain HTTP",
                 config.federation_listener.bind_address, fed_server->bound_port());
    if (!tls) {
      spdlog::warn("federation listener without TLS: other servers reach it only through a "
                   "reverse proxy that terminates TLS");
    }
  }

  auto on_signal = [](evutil_socket_t, short, void* arg) {
    auto* stop = static_cast<std::function<void()>*>(arg);
    (*stop)();
  };
  // Stop accepting, let queued writes become durable and their requests be answered, then
  // leave the loop.
  std::thread closer;
  std::function<void()> stop = [&] {
    if (closer.joinable()) return;
    spdlog::info("shutting down");
    client_server.stop_accepting();
    if (fed_server) fed_server->stop_accepting();
    closer = std::thread([&] {
      appservices.stop();
      store->close();
      loop.post([&] { loop.stop(); });
    });
  };
  SignalHandlers signals;
  signals.term = evsignal_new(loop.base(), SIGTERM, on_signal, &stop);
  signals.intr = evsignal_new(loop.base(), SIGINT, on_signal, &stop);
  event_add(signals.term, nullptr);
  event_add(signals.intr, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  appservices.events_appended();  // events stored while a service's cursor lagged behind
  delayed_events.start();          // delayed events that fell due while the server was down
  if (outbox) outbox->wake();      // transactions that were not delivered before a restart
  loop.run();
  if (closer.joinable()) closer.join();
  // A TLS bufferevent is only released by a callback libevent has deferred (one is pending
  // when an answer was written just before the loop stopped), and event_base_free drops such
  // callbacks unrun: close the connections now and let the loop run what is pending once.
  client_server.close_connections();
  if (fed_server) fed_server->close_connections();
  event_base_loop(loop.base(), EVLOOP_NONBLOCK);
  store->close();
  workers.stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace haven
