#include "storage/lmdb_store.h"

#include <fcntl.h>
#include <lmdb.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <future>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <thread>
#include <utility>
#include <vector>

#include "storage/at_rest_keys.h"
#include "storage/keys.h"

namespace haven::storage {

const char* table_name(Table t) {
  // These are the LMDB database names on disk: renaming one orphans its data.
  switch (t) {
    case Table::kMeta:
      return "meta";
    case Table::kUsers:
      return "users";
    case Table::kUserByLower:
      return "user_by_lower";
    case Table::kDevices:
      return "devices";
    case Table::kAccessTokens:
      return "access_tokens";
    case Table::kEvents:
      return "events";
    case Table::kRoomTimeline:
      return "room_timeline";
    case Table::kStreamEvents:
      return "stream_events";
    case Table::kRooms:
      return "rooms";
    case Table::kCurrentState:
      return "current_state";
    case Table::kStateGroups:
      return "state_groups";
    case Table::kEventStateGroup:
      return "event_state_group";
    case Table::kMembershipsByUser:
      return "memberships_by_user";
    case Table::kRoomAliases:
      return "room_aliases";
    case Table::kRoomAliasesByRoom:
      return "room_aliases_by_room";
    case Table::kTxnIds:
      return "txn_ids";
    case Table::kAccountData:
      return "account_data";
    case Table::kAccountDataStream:
      return "account_data_stream";
    case Table::kReceipts:
      return "receipts";
    case Table::kReceiptsStream:
      return "receipts_stream";
    case Table::kFilters:
      return "filters";
    case Table::kPushRules:
      return "push_rules";
    case Table::kPresence:
      return "presence";
    case Table::kRelations:
      return "relations";
    case Table::kRegistrationTokens:
      return "registration_tokens";
    case Table::kEventSearch:
      return "event_search";
    case Table::kRoomMembers:
      return "room_members";
    case Table::kRedactions:
      return "redactions";
    case Table::kEventTxnIds:
      return "event_txn_ids";
    case Table::kDeviceKeys:
      return "device_keys";
    case Table::kOneTimeKeys:
      return "one_time_keys";
    case Table::kFallbackKeys:
      return "fallback_keys";
    case Table::kCrossSigningKeys:
      return "cross_signing_keys";
    case Table::kKeySignatures:
      return "key_signatures";
    case Table::kDeviceListStream:
      return "device_list_stream";
    case Table::kDeviceListByUser:
      return "device_list_by_user";
    case Table::kToDevice:
      return "to_device";
    case Table::kToDeviceTxnIds:
      return "to_device_txn_ids";
    case Table::kKeyBackupVersions:
      return "key_backup_versions";
    case Table::kKeyBackupKeys:
      return "key_backup_keys";
    case Table::kCareRoles:
      return "care_roles";
    case Table::kCareContacts:
      return "care_contacts";
    case Table::kCareRoomOwners:
      return "care_room_owners";
    case Table::kPushers:
      return "pushers";
    case Table::kMedia:
      return "media";
    case Table::kMediaThumbnails:
      return "media_thumbnails";
    case Table::kBlockedRooms:
      return "blocked_rooms";
    case Table::kAppserviceQueue:
      return "appservice_queue";
    case Table::kAppserviceState:
      return "appservice_state";
    case Table::kServerKeys:
      return "server_keys";
    case Table::kServerKeyObjects:
      return "server_key_objects";
    case Table::kOwnSigningKeys:
      return "own_signing_keys";
    case Table::kEmailNotices:
      return "email_notices";
    case Table::kEmailOutbox:
      return "email_outbox";
    case Table::kThreepidSessions:
      return "threepid_sessions";
    case Table::kUserByEmail:
      return "user_by_email";
    case Table::kDelayedEvents:
      return "delayed_events";
    case Table::kDelayedDue:
      return "delayed_due";
    case Table::kDelayedByUser:
      return "delayed_by_user";
    case Table::kDelayedByState:
      return "delayed_by_state";
    case Table::kCareGuests:
      return "care_guests";
    case Table::kRejectedEvents:
      return "rejected_events";
    case Table::kFederationTxns:
      return "federation_txns";
    case Table::kAtRestKeys:
      return "at_rest_keys";
    case Table::kAtRestFreeSlots:
      return "at_rest_free_slots";
    case Table::kRoomMedia:
      return "room_media";
    case Table::kMediaRooms:
      return "media_rooms";
    case Table::kCareGuestLinks:
      return "care_guest_links";
    case Table::kCareGuestRequests:
      return "care_guest_requests";
    case Table::kCareRequestIndex:
      return "care_request_index";
    case Table::kCareTemporaryRooms:
      return "care_temporary_rooms";
    case Table::kCareLiveCalls:
      return "care_live_calls";
    case Table::kCareCallLedger:
      return "care_call_ledger";
    case Table::kCareCallsByOwner:
      return "care_calls_by_owner";
    case Table::kFedOutPdus:
      return "fed_out_pdus";
    case Table::kFedOutEdus:
      return "fed_out_edus";
    case Table::kFedOutDestinations:
      return "fed_out_destinations";
    case Table::kFedDevicesAnnounced:
      return "fed_devices_announced";
    case Table::kRemoteDeviceLists:
      return "remote_device_lists";
    case Table::kPublishedRooms:
      return "published_rooms";
    case Table::kCareE2ee:
      return "care_e2ee";
    case Table::kCount:
      break;
  }
  return "invalid";
}

namespace {

constexpr size_t kTableCount = static_cast<size_t>(Table::kCount);
using Dbis = std::array<MDB_dbi, kTableCount>;
using Visit = std::function<bool(std::string_view, std::string_view)>;

MDB_val to_val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }

std::string_view from_val(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

std::string lmdb_error(int rc) { return std::string("LMDB: ") + mdb_strerror(rc); }

// Errors after which LMDB has not marked the transaction as failed: the job may carry on.
// Any other error poisons the transaction, and with it the whole batch.
bool leaves_txn_usable(int rc) {
  return rc == MDB_NOTFOUND || rc == MDB_KEYEXIST || rc == MDB_BAD_VALSIZE || rc == EINVAL ||
         rc == EACCES;
}

// The smallest key above every key starting with `prefix`; none if prefix is empty or all 0xFF.
std::optional<std::string> prefix_successor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty() && static_cast<unsigned char>(s.back()) == 0xFF) s.pop_back();
  if (s.empty()) return std::nullopt;
  s.back() = static_cast<char>(static_cast<unsigned char>(s.back()) + 1);
  return s;
}

struct CursorCloser {
  void operator()(MDB_cursor* c) const { mdb_cursor_close(c); }
};
using CursorPtr = std::unique_ptr<MDB_cursor, CursorCloser>;

struct TxnAborter {
  void operator()(MDB_txn* t) const { mdb_txn_abort(t); }
};
using TxnPtr = std::unique_ptr<MDB_txn, TxnAborter>;

struct EnvCloser {
  void operator()(MDB_env* e) const { mdb_env_close(e); }
};
using EnvPtr = std::unique_ptr<MDB_env, EnvCloser>;

// Moves the cursor to the last key <= `bound`.
int seek_last_at_or_before(MDB_cursor* cur, std::string_view bound, MDB_val* k, MDB_val* v) {
  *k = to_val(bound);
  int rc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
  if (rc == MDB_NOTFOUND) return mdb_cursor_get(cur, k, v, MDB_LAST);
  if (rc == 0 && from_val(*k) != bound) return mdb_cursor_get(cur, k, v, MDB_PREV);
  return rc;
}

// Moves the cursor to the last key < `bound`.
int seek_last_before(MDB_cursor* cur, std::string_view bound, MDB_val* k, MDB_val* v) {
  *k = to_val(bound);
  int rc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
  if (rc == MDB_NOTFOUND) return mdb_cursor_get(cur, k, v, MDB_LAST);
  if (rc == 0) return mdb_cursor_get(cur, k, v, MDB_PREV);
  return rc;
}

// Returns 0, or the LMDB error that stopped the scan early.
int scan_txn(MDB_txn* txn, MDB_dbi dbi, std::string_view prefix, std::string_view from,
             Direction dir, const Visit& visit) {
  MDB_cursor* raw = nullptr;
  int rc = mdb_cursor_open(txn, dbi, &raw);
  if (rc != 0) return rc;
  CursorPtr cur(raw);
  MDB_val k{}, v{};
  const MDB_cursor_op step = dir == Direction::kForward ? MDB_NEXT : MDB_PREV;
  if (dir == Direction::kForward) {
    std::string_view start = from > prefix ? from : prefix;
    if (start.empty()) {
      rc = mdb_cursor_get(cur.get(), &k, &v, MDB_FIRST);
    } else {
      k = to_val(start);
      rc = mdb_cursor_get(cur.get(), &k, &v, MDB_SET_RANGE);
    }
  } else {
    // Start at the last key within the prefix, or at `from` if that comes earlier. A `from`
    // below the prefix lands before it and the loop stops at once.
    auto successor = prefix_successor(prefix);
    if (!from.empty() && (!successor || from < *successor)) {
      rc = seek_last_at_or_before(cur.get(), from, &k, &v);
    } else if (successor) {
      rc = seek_last_before(cur.get(), *successor, &k, &v);
    } else {
      rc = mdb_cursor_get(cur.get(), &k, &v, MDB_LAST);
    }
  }
  while (rc == 0) {
    std::string_view key = from_val(k);
    if (!key.starts_with(prefix)) return 0;
    if (!visit(key, from_val(v))) return 0;
    rc = mdb_cursor_get(cur.get(), &k, &v, step);
  }
  return rc == MDB_NOTFOUND ? 0 : rc;
}

int get_txn(MDB_txn* txn, MDB_dbi dbi, std::string_view key, std::string_view* out) {
  MDB_val k = to_val(key), v{};
  int rc = mdb_get(txn, dbi, &k, &v);
  if (rc == 0) *out = from_val(v);
  return rc;
}

class LmdbReadTxn final : public ReadTxn {
 public:
  LmdbReadTxn(std::shared_lock<std::shared_mutex> lock, MDB_txn* txn, const Dbis& dbis,
              AtRestKeyFile& keys)
      : lock_(std::move(lock)), txn_(txn), dbis_(dbis), keys_(keys) {}

  // A read error other than "not found" also yields nullopt: readers have no error channel.
  std::optional<std::string_view> get(Table table, std::string_view key) override {
    std::string_view value;
    if (get_txn(txn_.get(), dbi(table), key, &value) != 0) return std::nullopt;
    return value;
  }

  void scan(Table table, std::string_view prefix, std::string_view from, Direction dir,
            const Visit& visit) override {
    scan_txn(txn_.get(), dbi(table), prefix, from, dir, visit);
  }

  AtRestKeyPtr at_rest_key(std::string_view scope) override {
    auto slot = get(Table::kAtRestKeys, scope);
    if (!slot) return nullptr;
    auto n = decode_u64(*slot);
    return n ? keys_.read(*n) : nullptr;
  }

 private:
  MDB_dbi dbi(Table t) const { return dbis_[static_cast<size_t>(t)]; }

  // Held shared for the transaction's life so the writer cannot resize the map under it.
  // Declared first: released after the transaction is aborted.
  std::shared_lock<std::shared_mutex> lock_;
  TxnPtr txn_;
  Dbis dbis_;
  AtRestKeyFile& keys_;
};

// One job's view: a nested transaction of the batch's write transaction.
class LmdbWriteTxn final : public WriteTxn {
 public:
  LmdbWriteTxn(MDB_txn* txn, const Dbis& dbis, AtRestKeyFile& keys)
      : txn_(txn), dbis_(dbis), keys_(keys) {}

  // The first error that poisoned the transaction (0 if none): the batch cannot commit.
  int batch_error() const { return batch_error_; }
  // An error the job may not ignore although the transaction is still usable.
  const std::optional<Status>& job_error() const { return job_error_; }

  std::optional<std::string_view> get(Table table, std::string_view key) override {
    std::string_view value;
    int rc = get_txn(txn_, dbi(table), key, &value);
    if (rc != 0) {
      note(rc);
      return std::nullopt;
    }
    return value;
  }

  void scan(Table table, std::string_view prefix, std::string_view from, Direction dir,
            const Visit& visit) override {
    note(scan_txn(txn_, dbi(table), prefix, from, dir, visit));
  }

  Status put(Table table, std::string_view key, std::string_view value) override {
    MDB_val k = to_val(key), v = to_val(value);
    return status_of(mdb_put(txn_, dbi(table), &k, &v, 0));
  }

  Status del(Table table, std::string_view key) override {
    MDB_val k = to_val(key);
    int rc = mdb_del(txn_, dbi(table), &k, nullptr);
    return rc == MDB_NOTFOUND ? Status() : status_of(rc);
  }

  Status del_prefix(Table table, std::string_view prefix) override {
    MDB_cursor* raw = nullptr;
    int rc = mdb_cursor_open(txn_, dbi(table), &raw);
    if (rc != 0) return status_of(rc);
    CursorPtr cur(raw);
    // Re-seek after each delete: relies only on documented cursor positioning.
    for (;;) {
      MDB_val k = to_val(prefix), v{};
      rc = mdb_cursor_get(cur.get(), &k, &v, prefix.empty() ? MDB_FIRST : MDB_SET_RANGE);
      if (rc == MDB_NOTFOUND || (rc == 0 && !from_val(k).starts_with(prefix))) return Status();
      if (rc == 0) rc = mdb_cursor_del(cur.get(), 0);
      if (rc != 0) return status_of(rc);
    }
  }

  uint64_t next_counter(std::string_view name) override {
    uint64_t next = current_counter(name) + 1;
    Status s = put(Table::kMeta, counter_key(name), encode_u64(next));
    // Handing out a number that is not stored would let it be handed out again.
    if (!s.ok() && !job_error_) job_error_ = s;
    return next;
  }

  uint64_t current_counter(std::string_view name) override {
    auto value = get(Table::kMeta, counter_key(name));
    if (!value) return 0;
    return decode_u64(*value).value_or(0);
  }

  AtRestKeyPtr at_rest_key(std::string_view scope) override {
    auto slot = get(Table::kAtRestKeys, scope);
    if (!slot) return nullptr;
    auto n = decode_u64(*slot);
    return n ? keys_.read(*n) : nullptr;
  }

  AtRestKeyPtr at_rest_key_for_write(std::string_view scope, Status* status) override {
    *status = Status();
    if (auto key = at_rest_key(scope)) return key;
    // No row, or a row whose slot was zeroed by a destroy that was then rolled back: a new slot.
    uint64_t slot = 0;
    scan(Table::kAtRestFreeSlots, {}, {}, Direction::kForward,
         [&](std::string_view k, std::string_view) {
           slot = decode_u64(k).value_or(0);
           return false;
         });
    if (slot != 0) {
      *status = del(Table::kAtRestFreeSlots, encode_u64(slot));
    } else {
      slot = next_counter("at_rest_key_slots");
      if (job_error_) *status = *job_error_;
    }
    if (!status->ok()) return nullptr;
    // The key is on disk before the row naming its slot can commit.
    auto key = keys_.create(slot, status);
    if (!key) return nullptr;
    *status = put(Table::kAtRestKeys, scope, encode_u64(slot));
    return status->ok() ? key : nullptr;
  }

  Status destroy_at_rest_key(std::string_view scope) override {
    auto row = get(Table::kAtRestKeys, scope);
    if (!row) return Status();
    auto slot = decode_u64(*row);
    if (slot) {
      // Zeroed on disk first: even if this job is rolled back, the key is gone.
      Status s = keys_.destroy(*slot);
      if (!s.ok()) return s;
    }
    Status s = del(Table::kAtRestKeys, scope);
    if (s.ok() && slot) s = put(Table::kAtRestFreeSlots, encode_u64(*slot), "");
    return s;
  }

 private:
  static std::string counter_key(std::string_view name) {
    return KeyBuilder().tail("counter:").tail(name).take();
  }

  MDB_dbi dbi(Table t) const { return dbis_[static_cast<size_t>(t)]; }

  void note(int rc) {
    if (rc != 0 && !leaves_txn_usable(rc) && batch_error_ == 0) batch_error_ = rc;
  }

  Status status_of(int rc) {
    if (rc == 0) return Status();
    note(rc);
    if (rc == MDB_MAP_FULL) return Status::full(lmdb_error(rc));
    return Status::io_error(lmdb_error(rc));
  }

  MDB_txn* txn_;
  const Dbis& dbis_;
  AtRestKeyFile& keys_;
  int batch_error_ = 0;
  std::optional<Status> job_error_;
};

class LmdbStoreImpl final : public LmdbStore {
 public:
  LmdbStoreImpl(EnvPtr env, const Dbis& dbis, std::unique_ptr<AtRestKeyFile> keys,
                const StoreOptions& options, uint64_t map_size, uint64_t max_map_size, Post post)
      : env_(std::move(env)),
        keys_(std::move(keys)),
        dbis_(dbis),
        max_batch_(options.max_batch == 0 ? 1 : options.max_batch),
        max_map_size_(max_map_size),
        map_size_(map_size),
        post_(std::move(post)) {
    writer_ = std::thread([this] { writer_main(); });
  }

  ~LmdbStoreImpl() override { close(); }

  std::unique_ptr<ReadTxn> begin_read() override {
    std::shared_lock lock(env_mu_);
    if (!env_) return nullptr;
    MDB_txn* txn = nullptr;
    if (mdb_txn_begin(env_.get(), nullptr, MDB_RDONLY, &txn) != 0) return nullptr;
    return std::make_unique<LmdbReadTxn>(std::move(lock), txn, dbis_, *keys_);
  }

  void submit(Job job, Done done) override {
    enqueue(Item{std::move(job), std::move(done), /*direct=*/false, {}, 0});
  }

  void submit_together(std::vector<std::pair<Job, Done>> jobs) override {
    std::vector<Item> items;
    items.reserve(jobs.size());
    {
      std::lock_guard lock(mu_);
      uint64_t group = ++last_group_;
      for (auto& [job, done] : jobs) {
        items.push_back(Item{std::move(job), std::move(done), /*direct=*/false, {}, group});
      }
      if (!closing_) {
        for (auto& item : items) queue_.push_back(std::move(item));
        cv_.notify_one();
        return;
      }
    }
    for (auto& item : items) {
      item.status = Status::io_error("closing");
      deliver(item);
    }
  }

  Status run(Job job) override {
    // Completed on the writer thread, not through post_: works before the event loop runs.
    std::promise<Status> result;
    auto future = result.get_future();
    enqueue(Item{std::move(job),
                 [&result](Status s) { result.set_value(std::move(s)); },
                 /*direct=*/true,
                 {},
                 0});
    return future.get();
  }

  void close() override {
    {
      std::lock_guard lock(mu_);
      closing_ = true;
    }
    cv_.notify_all();
    std::lock_guard close_lock(close_mu_);
    if (writer_.joinable()) writer_.join();
    std::unique_lock env_lock(env_mu_);  // waits for open read transactions
    env_.reset();
  }

  uint64_t map_size() const override { return map_size_.load(); }
  uint64_t commit_count() const override { return commits_.load(); }

 private:
  struct Item {
    Job job;
    Done done;
    bool direct;  // call done on the writer thread instead of through post_
    Status status;
    uint64_t group = 0;  // jobs of one submit_together share a non-zero group
  };

  static bool same_group(const Item& a, const Item& b) {
    return a.group != 0 && a.group == b.group;
  }

  // Where to cut `items` in two for separate commits: near the middle, between two groups;
  // 0 when they are all one group.
  static size_t split_point(std::span<Item> items) {
    if (items.size() < 2) return 0;
    for (size_t cut = items.size() / 2; cut < items.size(); ++cut) {
      if (!same_group(items[cut - 1], items[cut])) return cut;
    }
    for (size_t cut = items.size() / 2; cut > 0; --cut) {
      if (!same_group(items[cut - 1], items[cut])) return cut;
    }
    return 0;
  }

  void enqueue(Item item) {
    {
      std::lock_guard lock(mu_);
      if (!closing_) {
        queue_.push_back(std::move(item));
        cv_.notify_one();
        return;
      }
    }
    item.status = Status::io_error("closing");
    deliver(item);
  }

  void deliver(Item& item) {
    if (!item.done) return;
    if (item.direct || !post_) {
      item.done(std::move(item.status));
      return;
    }
    post_([done = std::move(item.done), status = std::move(item.status)]() mutable {
      done(std::move(status));
    });
  }

  void writer_main() {
    std::vector<Item> batch;
    for (;;) {
      batch.clear();
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return !queue_.empty() || closing_; });
        if (queue_.empty()) return;  // closing, and everything queued is done
        // A group is never cut across batches, even past max_batch_.
        while (!queue_.empty() &&
               (batch.size() < max_batch_ || same_group(batch.back(), queue_.front()))) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      commit(batch);
      for (auto& item : batch) deliver(item);
    }
  }

  // Runs and commits `items` as one write transaction, setting each item's status.
  void commit(std::span<Item> items) {
    for (;;) {
      int rc = try_commit(items);
      if (rc == 0) return;
      if (rc == MDB_MAP_FULL && grow_map()) continue;
      // Too big for one transaction or for the map: commit the halves separately (cut between
      // groups of submit_together, which fail whole), so only the jobs that cannot fit fail.
      size_t half = split_point(items);
      if ((rc == MDB_MAP_FULL || rc == MDB_TXN_FULL) && half > 0) {
        commit(items.first(half));
        commit(items.subspan(half));
        return;
      }
      Status error = batch_status(rc);
      for (auto& item : items) item.status = error;
      return;
    }
  }

  // One attempt: every job in its own nested transaction, then one commit (one fsync).
  // Returns 0, or the error that made the whole attempt fail (nothing of it is written).
  int try_commit(std::span<Item> items) {
    MDB_txn* parent = nullptr;
    int rc = mdb_txn_begin(env_.get(), nullptr, 0, &parent);
    if (rc != 0) return rc;
    for (auto& item : items) {
      MDB_txn* child = nullptr;
      rc = mdb_txn_begin(env_.get(), parent, 0, &child);
      if (rc != 0) {
        mdb_txn_abort(parent);
        return rc;
      }
      LmdbWriteTxn txn(child, dbis_, *keys_);
      Status status = run_job(item.job, txn);
      if (txn.batch_error() != 0) {
        mdb_txn_abort(child);
        mdb_txn_abort(parent);
        return txn.batch_error();
      }
      if (status.ok() && txn.job_error()) status = *txn.job_error();
      if (status.ok()) {
        rc = mdb_txn_commit(child);
        if (rc != 0) {
          mdb_txn_abort(parent);
          return rc;
        }
      } else {
        mdb_txn_abort(child);
      }
      item.status = std::move(status);
    }
    rc = mdb_txn_commit(parent);  // frees the transaction whether or not it succeeds
    if (rc == 0) commits_.fetch_add(1);
    return rc;
  }

  static Status run_job(const Job& job, WriteTxn& txn) {
    try {
      return job(txn);
    } catch (const std::exception& e) {
      return Status::io_error(std::string("storage job threw: ") + e.what());
    } catch (...) {
      return Status::io_error("storage job threw");
    }
  }

  Status batch_status(int rc) const {
    if (rc == MDB_MAP_FULL) {
      return Status::full("the database is full: it reached its maximum size of " +
                          std::to_string(max_map_size_) + " bytes (storage max_map_size)");
    }
    if (rc == ENOSPC || rc == EDQUOT) {
      return Status::full(std::string("the disk holding the database is full: ") +
                          std::strerror(rc));
    }
    if (rc == MDB_TXN_FULL) {
      return Status::io_error("a single storage job wrote more than one transaction can hold");
    }
    return Status::io_error(lmdb_error(rc));
  }

  // Doubles the map (up to max_map_size_). Called with no transaction open on this thread; the
  // exclusive lock waits for every read transaction to end, as mdb_env_set_mapsize requires.
  bool grow_map() {
    uint64_t current = map_size_.load();
    uint64_t target = current >= max_map_size_ / 2 ? max_map_size_ : current * 2;
    if (target <= current) return false;
    std::unique_lock lock(env_mu_);
    if (mdb_env_set_mapsize(env_.get(), target) != 0) return false;
    MDB_envinfo info{};
    mdb_env_info(env_.get(), &info);
    map_size_.store(info.me_mapsize);
    return info.me_mapsize > current;
  }

  EnvPtr env_;
  const std::unique_ptr<AtRestKeyFile> keys_;
  const Dbis dbis_;
  const size_t max_batch_;
  const uint64_t max_map_size_;
  std::atomic<uint64_t> map_size_;
  std::atomic<uint64_t> commits_{0};
  const Post post_;

  // Held shared by every open read transaction, exclusively to resize the map or close.
  std::shared_mutex env_mu_;

  std::mutex mu_;  // guards queue_ and closing_
  std::condition_variable cv_;
  std::deque<Item> queue_;
  uint64_t last_group_ = 0;  // guarded by mu_
  bool closing_ = false;

  std::mutex close_mu_;  // lets concurrent close() calls all wait for the writer
  std::thread writer_;
};

uint64_t round_up(uint64_t v, uint64_t unit) { return (v + unit - 1) / unit * unit; }

}  // namespace

std::unique_ptr<LmdbStore> LmdbStore::open(const StoreOptions& options, Post post,
                                           std::string* error) {
  auto fail = [&](std::string message) -> std::unique_ptr<LmdbStore> {
    if (error) *error = std::move(message);
    return nullptr;
  };
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(options.path, ec);
  if (ec) return fail("cannot create " + options.path + ": " + ec.message());

  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const uint64_t initial = round_up(std::max<uint64_t>(options.initial_map_size, page), page);
  const uint64_t max_size = std::max(initial, options.max_map_size / page * page);

  MDB_env* raw = nullptr;
  int rc = mdb_env_create(&raw);
  if (rc != 0) return fail(lmdb_error(rc));
  EnvPtr env(raw);
  rc = mdb_env_set_maxdbs(env.get(), kTableCount);
  if (rc == 0) rc = mdb_env_set_maxreaders(env.get(), 512);
  // A new environment starts at the initial size; an existing one keeps the size it grew to.
  const bool fresh = !fs::exists(fs::path(options.path) / "data.mdb", ec);
  if (rc == 0 && fresh) rc = mdb_env_set_mapsize(env.get(), initial);
  if (rc != 0) return fail(lmdb_error(rc));
  // MDB_NOTLS: read transactions belong to the ReadTxn object, not to the thread.
  rc = mdb_env_open(env.get(), options.path.c_str(), MDB_NOTLS, 0600);
  if (rc != 0) return fail("cannot open the database in " + options.path + ": " + lmdb_error(rc));
  int stale_readers = 0;
  mdb_reader_check(env.get(), &stale_readers);  // slots left by a process that died
  MDB_envinfo info{};
  mdb_env_info(env.get(), &info);
  if (info.me_mapsize < initial) {
    rc = mdb_env_set_mapsize(env.get(), initial);
    if (rc != 0) return fail(lmdb_error(rc));
    mdb_env_info(env.get(), &info);
  }

  Dbis dbis{};
  MDB_txn* txn = nullptr;
  rc = mdb_txn_begin(env.get(), nullptr, 0, &txn);
  if (rc != 0) return fail(lmdb_error(rc));
  for (size_t i = 0; i < kTableCount && rc == 0; ++i) {
    rc = mdb_dbi_open(txn, table_name(static_cast<Table>(i)), MDB_CREATE, &dbis[i]);
  }
  if (rc != 0) {
    mdb_txn_abort(txn);
    return fail("cannot open the tables: " + lmdb_error(rc));
  }
  rc = mdb_txn_commit(txn);
  if (rc != 0) return fail("cannot create the tables: " + lmdb_error(rc));

  auto keys = AtRestKeyFile::open((fs::path(options.path) / "at-rest-keys").string(), error);
  if (!keys) return nullptr;
  return std::make_unique<LmdbStoreImpl>(
      std::move(env), dbis, std::move(keys), options, info.me_mapsize,
      std::max<uint64_t>(max_size, info.me_mapsize), std::move(post));
}

Status LmdbStore::compact(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path dir(path);
  const fs::path tmp = dir / "compact.tmp";
  fs::remove_all(tmp, ec);  // left by a compaction that was interrupted
  fs::create_directory(tmp, ec);
  if (ec) return Status::io_error("cannot create " + tmp.string() + ": " + ec.message());
  MDB_env* raw = nullptr;
  int rc = mdb_env_create(&raw);
  if (rc != 0) return Status::io_error(lmdb_error(rc));
  EnvPtr env(raw);
  rc = mdb_env_set_maxdbs(env.get(), kTableCount);
  if (rc == 0) rc = mdb_env_open(env.get(), path.c_str(), MDB_NOTLS, 0600);
  if (rc == 0) rc = mdb_env_copy2(env.get(), tmp.c_str(), MDB_CP_COMPACT);
  env.reset();
  if (rc != 0) return Status::io_error("compacting copy: " + lmdb_error(rc));
  const fs::path copy = tmp / "data.mdb";
  auto sync_path = [](const fs::path& p, int flags) {
    int fd = ::open(p.c_str(), flags | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = ::fsync(fd) == 0;
    ::close(fd);
    return ok;
  };
  if (!sync_path(copy, O_RDONLY)) return Status::io_error("cannot sync " + copy.string());
  fs::rename(copy, dir / "data.mdb", ec);
  if (ec) return Status::io_error("cannot replace data.mdb: " + ec.message());
  if (!sync_path(dir, O_RDONLY | O_DIRECTORY)) return Status::io_error("cannot sync " + path);
  fs::remove_all(tmp, ec);
  return Status();
}

std::unique_ptr<Store> open_lmdb_store(const StoreOptions& options, Store::Post post,
                                       std::string* error) {
  return LmdbStore::open(options, std::move(post), error);
}

}  // namespace haven::storage
