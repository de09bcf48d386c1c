// Server signing keys as the key API carries them (/_matrix/key/v2/server and the notary's
// /_matrix/key/v2/query): validating a received key object, deciding whether a key may be
// used at a given time, and building this server's own signed key object.
// Pure functions; any thread.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/ed25519.h"
#include "homeserver/base/result.h"

namespace haven::federation {

// A server's key is trusted for at most this long after it was fetched, whatever its
// valid_until_ts says (the spec's seven-day cap).
constexpr int64_t kMaxKeyValidityMs = 7LL * 24 * 3600 * 1000;

// One public key of a server and how long it may be used.
struct KnownKey {
  std::string public_key;      // 32 raw bytes
  int64_t valid_until_ts = 0;  // current keys: the lesser of valid_until_ts and fetch + 7 days
  int64_t expired_ts = 0;      // old_verify_keys: when the server stopped using it; 0 = current

  friend bool operator==(const KnownKey&, const KnownKey&) = default;
};

// What a key is checked for: a federation request (current keys only), or a signature on
// an event (old keys too, for events from before they expired).
enum class KeyUse { kRequest, kEvent };

// ok when `key` may check a signature made at `at_ts` (now, for a request; the event's
// origin_server_ts for an event), or M_UNAUTHORIZED saying why not.
Status check_key_usable(const KnownKey& key, int64_t at_ts, KeyUse use);

// A server's key object, validated.
struct ServerKeys {
  std::string server_name;
  int64_t valid_until_ts = 0;            // as the server published it
  std::map<std::string, KnownKey> keys;  // key id -> key; current and old
  std::string json;                      // the object as received, signatures included
};

// Validates one key object: server_name equals `expected_server`, verify_keys holds at least
// one well-formed ed25519 key, valid_until_ts is an integer, and the object is signed by
// every key in verify_keys. `fetched_ts` caps current keys' validity at seven days.
// Errors are M_UNAUTHORIZED with what was wrong.
Result<ServerKeys> parse_server_keys(const rapidjson::Value& object,
                                     std::string_view expected_server, int64_t fetched_ts);

// A key id of the spec's form: "ed25519:" followed by [a-zA-Z0-9_]+.
bool is_ed25519_key_id(std::string_view key_id);

struct OldOwnKey {
  std::string key_id;
  std::string public_key;  // 32 raw bytes
  int64_t expired_ts = 0;
};

// This server's key object, signed with `key`: verify_keys has `key`, old_verify_keys the
// keys it used before.
rapidjson::Document own_server_keys(std::string_view server_name, const crypto::SigningKey& key,
                                    const std::vector<OldOwnKey>& old_keys, int64_t valid_until_ts);

}  // namespace haven::federation
