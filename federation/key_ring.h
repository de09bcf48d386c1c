// The key store other federation code asks for servers' signing keys: this server's own keys,
// then the keys stored in LMDB, else a fetch from the server's /_matrix/key/v2/server and, when
// that fails, from the configured notaries (federation.trusted_key_servers), whose answers
// must carry both the server's and the notary's signature. Fetched keys are stored. A server's
// keys are fetched at most once per kMinRefetchMs for the same wanted key id (a key id not
// asked for before may be fetched at once: a server that rotated its key is not shut out),
// and one fetch serves every waiter.
// Loop thread only (fetches run on the FederationClient's threads).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "crypto/ed25519.h"
#include "federation/client.h"
#include "federation/server_keys.h"
#include "homeserver/base/json.h"
#include "homeserver/base/loop.h"
#include "storage/store.h"

namespace haven::federation {

class KeyRing {
 public:
  static constexpr int64_t kMinRefetchMs = 60 * 1000;
  // How long this server's published key object is valid for.
  static constexpr int64_t kOwnKeyValidityMs = 24LL * 3600 * 1000;

  KeyRing(Loop& loop, storage::Store& store, FederationClient& client, std::string own_name,
          const crypto::SigningKey& own_key, std::vector<OldOwnKey> own_old_keys,
          std::vector<std::string> notaries, std::function<int64_t()> now = now_ms);

  using KeyDone = std::function<void(Result<KnownKey>)>;
  // Key `key_id` of `server`, usable for `use` at `at_ts` (now for requests, the event's
  // origin_server_ts for events). M_UNAUTHORIZED when it cannot be had or is not usable then.
  void get_key(const std::string& server, const std::string& key_id, int64_t at_ts, KeyUse use,
               KeyDone done);

  // For the notary: the key object of `server` as its server signed it (text), refetched
  // when the stored one is valid for less than `min_valid_until_ts`; the stored one when the
  // server cannot be reached; none when there is none. This server's own object for its name.
  void key_objects(const std::string& server, int64_t min_valid_until_ts,
                   std::function<void(std::vector<std::string>)> done);

  // This server's key object, signed, valid for kOwnKeyValidityMs from now.
  json::Document own_key_object() const;
  const std::string& own_name() const { return own_name_; }
  const crypto::SigningKey& own_key() const { return own_key_; }

 private:
  struct Fetched;
  // Fetches `server`'s keys unless a fetch for `wanted` (a key id, or "" for any key) ran
  // less than kMinRefetchMs ago; `done` either way.
  void fetch(const std::string& server, const std::string& wanted, std::function<void()> done);
  // On a client thread: direct, then notaries. Everything it learnt, to be stored.
  Fetched fetch_blocking(const std::string& server);
  Result<ServerKeys> fetch_direct(const std::string& server);
  Result<std::vector<ServerKeys>> fetch_from_notary(const std::string& notary,
                                                    const std::string& server);
  std::optional<KnownKey> lookup(const std::string& server, const std::string& key_id);

  Loop& loop_;
  storage::Store& store_;
  FederationClient& client_;
  std::string own_name_;
  const crypto::SigningKey& own_key_;
  std::vector<OldOwnKey> own_old_keys_;
  std::vector<std::string> notaries_;
  std::function<int64_t()> now_;
  std::map<std::string, int64_t> last_fetch_;  // server \0 wanted -> when last fetched
  std::map<std::string, std::vector<std::function<void()>>> waiting_;  // fetches in flight
  // Set to false on destruction, so fetches finishing later touch nothing.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

 public:
  ~KeyRing() { *alive_ = false; }
};

}  // namespace haven::federation
