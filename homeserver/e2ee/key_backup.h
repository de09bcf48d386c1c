// Server-side key backups: each user's backup versions (algorithm, auth_data, key count, etag)
// and the encrypted room keys stored in them, with the spec's rule for which copy of a session
// key is kept. Versions are numbered per user and never reused; a deleted version leaves only a
// tombstone, so deleting it again succeeds and its number is not handed out again. Reads take a
// ReadTxn (any thread); writes take a WriteTxn (the storage writer thread, inside one Store
// job, which rolls back on an error). No HTTP; requests are validated by the caller.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "homeserver/base/result.h"
#include "storage/store.h"

namespace haven::e2ee {

inline constexpr std::string_view kMegolmBackupV1 = "m.megolm_backup.v1.curve25519-aes-sha2";

struct BackupVersion {
  uint64_t version = 0;
  std::string algorithm;
  std::string auth_data_json;  // the object the client gave, as JSON text
  int64_t count = 0;           // keys stored in this version
  uint64_t etag = 0;           // changes whenever the stored keys change
};

// A version number as clients see it (an opaque string to them, decimal here), and back:
// nullopt for anything this server never handed out the form of.
std::string version_string(uint64_t version);
std::optional<uint64_t> parse_version(std::string_view text);

// The user's newest backup version that is not deleted.
std::optional<BackupVersion> latest_backup(storage::ReadTxn& txn, std::string_view user_id);
// One version; nullopt when it never existed or was deleted.
std::optional<BackupVersion> get_backup(storage::ReadTxn& txn, std::string_view user_id,
                                        uint64_t version);

// A new version, newer than every version the user had (deleted ones included).
Result<BackupVersion> create_backup(storage::WriteTxn& txn, std::string_view user_id,
                                    std::string_view algorithm, std::string_view auth_data_json);
// Replaces a version's auth_data. M_NOT_FOUND for an unknown or deleted version,
// M_INVALID_PARAM when `algorithm` is not the version's.
Status update_backup(storage::WriteTxn& txn, std::string_view user_id, uint64_t version,
                     std::string_view algorithm, std::string_view auth_data_json);
// Deletes a version and every key in it. A version deleted before is fine (nothing to do);
// M_NOT_FOUND for one that never existed.
Status delete_backup(storage::WriteTxn& txn, std::string_view user_id, uint64_t version);

// One session key as the backup holds it.
struct RoomKey {
  int64_t first_message_index = 0;
  int64_t forwarded_count = 0;
  bool is_verified = false;
  std::string session_data_json;  // object text

  std::string to_json() const;
  static std::optional<RoomKey> from_json(std::string_view text);
};

// The spec's rule for a session uploaded again: the verified copy wins; between equally
// verified copies the lower first_message_index, then the lower forwarded_count. A tie keeps
// what is held.
bool replaces(const RoomKey& incoming, const RoomKey& held);

struct RoomKeyUpload {
  std::string room_id;
  std::string session_id;
  RoomKey key;
};

// The answer to a change of keys: the version's key count and etag afterwards.
struct BackupCounts {
  int64_t count = 0;
  std::string etag;
};

// Stores keys in `version`, which must be the user's latest: M_NOT_FOUND when it is unknown or
// deleted, 403 M_WRONG_ROOM_KEYS_VERSION (current_version in the body) when a newer one exists.
// Each key is kept or replaced by `replaces`. M_TOO_LARGE when the version would hold more than
// `max_keys` keys.
Result<BackupCounts> put_room_keys(storage::WriteTxn& txn, std::string_view user_id,
                                   uint64_t version, const std::vector<RoomKeyUpload>& keys,
                                   int64_t max_keys);
// Deletes the version's keys: all (room_id nullopt), a room's, or one session's. M_NOT_FOUND
// for an unknown or deleted version; keys that are not there are no error.
Result<BackupCounts> delete_room_keys(storage::WriteTxn& txn, std::string_view user_id,
                                      uint64_t version, const std::optional<std::string>& room_id,
                                      const std::optional<std::string>& session_id);

struct StoredRoomKey {
  std::string room_id;
  std::string session_id;
  std::string json;  // RoomKey::to_json text
};
// The version's keys, all or a room's or one session's, ordered by room then session.
// M_NOT_FOUND for an unknown or deleted version.
// Deletes every backed-up key of `room_id` from every user's live backups (the admin API's room
// purge), updating their counts and etags. Scans the whole table: purges are rare.
Status delete_room_from_all_backups(storage::WriteTxn& txn, std::string_view room_id);

Result<std::vector<StoredRoomKey>> get_room_keys(storage::ReadTxn& txn, std::string_view user_id,
                                                 uint64_t version,
                                                 const std::optional<std::string>& room_id,
                                                 const std::optional<std::string>& session_id);

}  // namespace haven::e2ee
