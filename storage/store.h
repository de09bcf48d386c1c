// The storage interface: named tables of ordered byte keys, read transactions for any thread,
// and one serialised writer that group-commits jobs. LMDB implements it (lmdb_store.h);
// callers never see LMDB types, so another backend can sit beside it.
//
// Threads: begin_read() from any thread (each ReadTxn used by one thread, kept short);
// submit() from any thread; jobs run on the writer thread; `done` callbacks run through
// the `post` function given at open (the event loop in haven).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/status.h"

namespace haven::storage {

// Every table. Adding one: append here and give it a name in table_name().
enum class Table : uint8_t {
  kMeta,               // schema version, counters ("stream:<kind>" -> u64), server keys
  kUsers,              // user_id -> user record JSON
  kUserByLower,        // lowercased localpart -> user_id (uniqueness)
  kDevices,            // user_id \0 device_id -> device record JSON
  kAccessTokens,       // sha256(token) -> {user_id, device_id}
  kEvents,             // event_id -> stored event record (JSON)
  kRoomTimeline,       // room_id \0 u64 stream_pos -> event_id
  kStreamEvents,       // u64 stream_pos -> room_id \0 event_id (global events stream)
  kRooms,              // room_id -> room record JSON (version, creator, forward extremities...)
  kCurrentState,       // room_id \0 type \0 state_key -> event_id
  kStateGroups,        // u64 group -> state group record
  kEventStateGroup,    // event_id -> u64 state group (state before/after, see rooms)
  kMembershipsByUser,  // user_id \0 room_id -> membership record JSON
  kRoomAliases,        // alias -> room_id JSON
  kRoomAliasesByRoom,  // room_id \0 alias -> ""
  kTxnIds,             // user_id \0 device_id \0 txn_id -> event_id
  kAccountData,        // user_id \0 room_id(or "") \0 type -> JSON
  kAccountDataStream,  // user_id \0 u64 pos -> room_id \0 type
  kReceipts,           // room_id \0 receipt_type \0 user_id -> receipt JSON
  kReceiptsStream,     // u64 pos -> room_id \0 receipt_type \0 user_id
  kFilters,            // user_id \0 u64 filter_id -> filter JSON
  kPushRules,          // user_id -> push rules JSON
  kPresence,           // user_id -> presence JSON
  kRelations,          // parent_event_id \0 rel_type \0 u64 stream_pos -> event_id
  kRegistrationTokens, // token -> JSON
  kEventSearch,        // reserved
  kRoomMembers,        // room_id \0 user_id -> membership
  kRedactions,         // redacted event_id -> redaction event_id
  kEventTxnIds,        // event_id -> device_id \0 txn_id (for unsigned.transaction_id)
  kDeviceKeys,         // user_id \0 device_id -> signed device keys JSON
  kOneTimeKeys,        // user_id \0 device_id \0 algorithm \0 key_id -> key JSON
  kFallbackKeys,       // user_id \0 device_id \0 algorithm -> {key_id, key, used}
  kCrossSigningKeys,   // user_id \0 usage (master|self_signing|user_signing) -> key JSON
  kKeySignatures,      // target user \0 target key id \0 signer user \0 signer key id -> signature
  kDeviceListStream,   // u64 pos -> user_id (whose devices or keys changed)
  kDeviceListByUser,   // user_id -> u64 pos of the latest change
  kToDevice,           // user_id \0 device_id \0 u64 pos -> to-device event JSON (inbox)
  kToDeviceTxnIds,     // sender user_id \0 device_id \0 event type \0 txn_id -> ""
  kKeyBackupVersions,  // user_id \0 u64 version -> version JSON; {"deleted":true} once deleted
  kKeyBackupKeys,      // user_id \0 u64 version room_id \0 session_id -> key data JSON
  kCareRoles,          // "u" \0 user_id -> role; "r" \0 role \0 user_id -> "" (care policy)
  kCareContacts,       // user_id \0 other user_id -> "" (both directions are stored)
  kCareRoomOwners,     // room_id -> owner user_id
  kPushers,            // user_id \0 app_id \0 pushkey -> pusher JSON
  kMedia,              // media_id -> media record JSON (sha256, type, size, name, uploader...)
  kMediaThumbnails,    // media_id \0 u32 width u32 height method -> thumbnail record JSON
  kBlockedRooms,       // room_id -> {user_id, ts}: joins and invites refused (admin API)
  kAppserviceQueue,    // appservice id \0 u64 seq -> queued item JSON (event, ephemeral, to-device)
  kAppserviceState,    // appservice id \0 name -> cursor or in-flight transaction record
  kServerKeys,         // server_name \0 key_id -> {key, valid_until_ts, expired_ts} (remote keys)
  kServerKeyObjects,   // server_name -> {fetched_ts, object}: the last signed key object received
  kOwnSigningKeys,     // key_id -> {key, expired_ts}: this server's keys, current and old
  kEmailNotices,       // user_id -> new-message email state JSON (pending since, notified pos)
  kEmailOutbox,        // u64 mail id -> outgoing email JSON (recipient, message, attempts)
  kThreepidSessions,   // sid -> email validation session JSON (/account/3pid/email/requestToken)
  kUserByEmail,        // lowercased email \0 user_id -> "" (whose address it is)
  kDelayedEvents,      // delay_id -> delayed event record JSON (scheduled or finalised)
  kDelayedDue,         // u64 due_ms \0 delay_id -> "" (scheduled ones only, earliest first)
  kDelayedByUser,      // user_id \0 delay_id -> "" (scheduled and finalised)
  kDelayedByState,     // room_id \0 type \0 state_key \0 delay_id -> user_id (scheduled state)
  kCareGuests,         // guest user_id -> the one room_id their tokens may use (care policy)
  kRejectedEvents,     // event_id -> u64 state group before it (0: unknown): rejected PDUs
  kFederationTxns,     // origin -> {txn_id, answer}: its last inbound /send (transaction dedupe)
  kAtRestKeys,         // scope (room_id) -> u64 slot in the at-rest key file (no key bytes)
  kAtRestFreeSlots,    // u64 slot -> "": slots of destroyed keys, reused first
  kRoomMedia,          // room_id \0 server \0 media_id -> "": mxc URIs the room's events named
  kMediaRooms,         // server \0 media_id \0 room_id -> "": the same, by media
  // Used only in haven-care's own environment (appservices/care):
  kCareGuestLinks,     // sha256(link token) -> guest link record JSON
  kCareGuestRequests,  // request_id -> guest access request record JSON
  kCareRequestIndex,   // "g" \0 guest user_id -> request_id
  kCareTemporaryRooms,  // room_id -> temporary conversation record JSON (deadline, owner)
  kCareLiveCalls,      // room_id \0 kind \0 call_id -> call in progress (or ringing) JSON
  kCareCallLedger,     // u64 started_ms u64 seq -> ended call record JSON (kept after deletion)
  kCareCallsByOwner,   // owner \0 u64 started_ms u64 seq -> "" (the ledger by professional)
  // Federation, outbound (federation/outbox_queue.h) and the device lists of other servers:
  kFedOutPdus,          // destination \0 u64 seq -> room_id \0 event_id (queued PDU by reference)
  kFedOutEdus,          // destination \0 u64 seq -> {"edu_type", "content"} (queued EDU)
  kFedOutDestinations,  // destination -> transaction in flight JSON, or {} (items are queued)
  kFedDevicesAnnounced, // local user_id -> devices and cross-signing keys last announced (JSON)
  kRemoteDeviceLists,   // remote user_id -> cached device list JSON (stream_id, devices, keys)
  // The published room directory (homeserver/rooms/room_directory.h):
  kPublishedRooms,      // room_id -> "": rooms listed by /publicRooms
  // haven-care's device (appservices/care/e2ee_store.h): its Olm account and sessions, the
  // Megolm keys of its rooms, encrypted events waiting for their key.
  kCareE2ee,
  kCount
};

const char* table_name(Table t);

enum class Direction { kForward, kBackward };

// A scope's (a room's) at-rest key: 32 secret bytes, zeroed when the last holder drops it. The
// bytes live in the key file beside the tables, never in a table (see at_rest_keys.h).
constexpr size_t kAtRestKeyBytes = 32;
class AtRestKey {
 public:
  explicit AtRestKey(const unsigned char* bytes);
  ~AtRestKey();
  AtRestKey(const AtRestKey&) = delete;
  AtRestKey& operator=(const AtRestKey&) = delete;
  std::string_view bytes() const {
    return {reinterpret_cast<const char*>(bytes_), kAtRestKeyBytes};
  }

 private:
  unsigned char bytes_[kAtRestKeyBytes];
};
using AtRestKeyPtr = std::shared_ptr<const AtRestKey>;

// A consistent snapshot. Values returned are valid until the transaction ends.
class ReadTxn {
 public:
  virtual ~ReadTxn() = default;
  virtual std::optional<std::string_view> get(Table table, std::string_view key) = 0;
  // Visits entries whose key starts with `prefix`, beginning at `from` (inclusive; empty means
  // the first entry forward, or the last entry backward within the prefix), until `visit`
  // returns false.
  virtual void scan(Table table, std::string_view prefix, std::string_view from, Direction dir,
                    const std::function<bool(std::string_view key, std::string_view value)>& visit) = 0;
  // The at-rest key of `scope` (a room id), or nullptr if it has none: never had one, or it
  // was destroyed (then whatever was sealed with it is unreadable for good).
  virtual AtRestKeyPtr at_rest_key(std::string_view scope) = 0;
};

// A write transaction: reads see the transaction's own writes. Values it returns are valid only
// until its next put/del or its end (LMDB's rule for write transactions).
class WriteTxn : public ReadTxn {
 public:
  virtual Status put(Table table, std::string_view key, std::string_view value) = 0;
  virtual Status del(Table table, std::string_view key) = 0;  // ok if absent
  virtual Status del_prefix(Table table, std::string_view prefix) = 0;
  // Next value of a named counter (starts at 1), persisted with the transaction.
  virtual uint64_t next_counter(std::string_view name) = 0;
  virtual uint64_t current_counter(std::string_view name) = 0;
  // The at-rest key of `scope`, created (random, written durably to the key file) if it has
  // none. nullptr and `status` on an I/O error.
  virtual AtRestKeyPtr at_rest_key_for_write(std::string_view scope, Status* status) = 0;
  // Destroys the key of `scope` at once (the key file is overwritten before this returns, even
  // if the job is later rolled back), so rows sealed with it can never be read again; ok if
  // it has none.
  virtual Status destroy_at_rest_key(std::string_view scope) = 0;
};

class Store {
 public:
  // A job runs on the writer thread inside its own nested transaction: returning non-ok rolls
  // back that job's writes only; the batch it belongs to still commits. A job may run more than
  // once (a batch is retried after the map grows), so its only effects must be its writes.
  using Job = std::function<Status(WriteTxn&)>;
  using Done = std::function<void(Status)>;
  using Post = std::function<void(std::function<void()>)>;

  virtual ~Store() = default;
  // nullptr once the store is closed, or if the backend cannot start a read (too many readers).
  virtual std::unique_ptr<ReadTxn> begin_read() = 0;
  // Queues a job. `done` is posted after the batch holding the job is durable on disk (fsync),
  // with the job's status, or the commit's error (e.g. full) if the batch could not commit.
  virtual void submit(Job job, Done done) = 0;
  // Queues jobs that commit in the same batch (one write transaction, one fsync), in this order
  // and each in its own nested transaction as with submit: for work whose later parts read the
  // earlier ones' writes and whose callers want one commit for all. A group is never split
  // over two commits: one too big for a transaction fails as a whole (see LmdbStore).
  virtual void submit_together(std::vector<std::pair<Job, Done>> jobs) = 0;
  // Runs a job and waits for it to be durable: for start-up and the CLI, never on the loop.
  virtual Status run(Job job) = 0;
  // Stops accepting jobs, finishes queued ones, closes the environment.
  virtual void close() = 0;
};

struct StoreOptions {
  std::string path;                          // directory holding the environment
  uint64_t initial_map_size = 1ull << 30;    // bytes; grown automatically when full
  uint64_t max_map_size = 1ull << 40;
  size_t max_batch = 512;                    // jobs per group commit
};

// Opens (creating if needed) the LMDB store. `post` delivers done-callbacks to the caller's
// thread. Returns nullptr and fills `error` on failure.
std::unique_ptr<Store> open_lmdb_store(const StoreOptions& options, Store::Post post,
                                       std::string* error);

}  // namespace haven::storage
