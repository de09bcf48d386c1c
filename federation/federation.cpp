#include "federation/federation.h"

#include <chrono>

#include "federation/key_store.h"
#include "federation/routes.h"

namespace haven::federation {
namespace {

int64_t monotonic_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::map<std::string, std::string> host_overrides(const conf::Federation& config) {
  std::map<std::string, std::string> out;
  for (const std::string& entry : config.test_host_overrides) {
    const size_t eq = entry.find('=');
    if (eq != std::string::npos) out[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return out;
}

Federation::Federation(const conf::Config& config, Loop& loop, storage::Store& store,
                       const crypto::SigningKey& key)
    : config_(config),
      store_(store),
      allowed_(config.federation.allowed_servers),
      tls_(config.federation),
      well_known_(tls_),
      resolver_(dns_, well_known_, host_overrides(config.federation), monotonic_ms),
      loop_(loop) {
  const int64_t now = now_ms();
  auto recorded =
      store.run([&key, now](storage::WriteTxn& txn) { return record_own_key(txn, key, now); });
  std::vector<OldOwnKey> old_keys;
  if (!recorded.ok()) {
    error_ = "cannot record the signing key: " + recorded.message();
  } else if (auto txn = store.begin_read()) {
    old_keys = own_old_keys(*txn);
  }
  client_ =
      std::make_unique<FederationClient>(&loop, resolver_, key, config.server_name, tls_, allowed_);
  keys_ = std::make_unique<KeyRing>(loop, store, *client_, config.server_name, key,
                                    std::move(old_keys), config.federation.trusted_key_servers);
  verifier_ = std::make_unique<RequestVerifier>(config.server_name, allowed_, *keys_,
                                                config.max_json_depth);
}

Federation::~Federation() {
  intake_.reset();
  client_.reset();
}

void Federation::start_inbound(WorkerPool& workers, PduIntake::Appended appended) {
  room_source_ = std::make_unique<FederationRoomSource>(*client_);
  intake_ = std::make_unique<PduIntake>(loop_, store_, *keys_, *room_source_, &workers,
                                        std::move(appended));
}

void Federation::register_routes(http::Router& router) {
  register_server_routes(router);
  register_key_routes(router, *keys_, allowed_, config_.max_json_depth);
  register_query_routes(router, *verifier_, store_, config_);
  register_public_rooms_routes(router, *verifier_, store_, config_);
  register_user_routes(router, *verifier_, store_, config_);
  if (!intake_) return;
  register_event_routes(router, *verifier_, store_, config_);
  register_transaction_routes(router, *verifier_, store_, *intake_, edus_, config_.max_json_depth);
}

}  // namespace haven::federation
