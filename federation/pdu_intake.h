// The PDU intake: events other servers send into rooms this server holds, put through the
// spec's checks on receipt in order (format, signatures, content hash, auth events, state
// before, soft failure against current state), with gaps in the DAG filled first from the
// sending server (/get_missing_events, then /state_ids and /event). The PDUs of one room in
// one transaction are handled as a batch, after the room's earlier batches: their signatures
// are verified together on the worker pool, then the auth checks and storage of all of them
// run on the storage writer in one commit, one nested transaction per PDU in transaction
// order (so a PDU sees the effect of those before it, and one that fails leaves nothing).
// A PDU whose prev or auth events are neither stored nor earlier in the batch has its gaps
// filled and is committed on its own, after the PDUs before it. Rooms proceed independently.
// Loop thread only; callbacks run on the loop thread.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "federation/key_ring.h"
#include "federation/remote_room_source.h"
#include "homeserver/base/loop.h"
#include "homeserver/rooms/event.h"
#include "homeserver/rooms/local_event_policy.h"
#include "homeserver/rooms/remote_event.h"
#include "storage/store.h"

namespace haven::federation {

class PduIntake {
 public:
  // Events asked for with one /get_missing_events.
  static constexpr int kMissingEventsLimit = 10;
  // Prev events whose state one PDU may take from /state_ids, and events fetched with /event
  // for each.
  static constexpr size_t kMaxPrevEventsByState = 5;
  static constexpr size_t kMaxFetchedEvents = 1000;
  // PDUs waiting for their room; beyond this a transaction's PDUs of that room are refused.
  static constexpr size_t kMaxQueuedPerRoom = 2000;

  // Called on the loop thread for every event that entered a room's timeline (not for
  // soft-failed ones or outliers): wakes syncs, appservices and pushers as a local send does.
  using Appended = std::function<void(const rooms::EventPtr&)>;

  // `workers` may be nullptr: signatures are then verified on the loop thread.
  PduIntake(Loop& loop, storage::Store& store, KeyRing& keys, RemoteRoomSource& remote,
            WorkerPool* workers, Appended appended);
  ~PduIntake();
  PduIntake(const PduIntake&) = delete;
  PduIntake& operator=(const PduIntake&) = delete;

  struct Outcome {
    std::string event_id;  // empty when the PDU names no room this server holds or is not JSON
    // Why the PDU was dropped or rejected; none when it was accepted, soft-failed or known.
    std::optional<std::string> error;
    std::optional<rooms::ReceivedEvent::Outcome> stored;  // how it was stored, if it was
  };
  using Done = std::function<void(Outcome)>;

  // This server's rules for remote users' events (care rules): a PDU the policy refuses is
  // soft-failed. Set once at start-up; nullptr (the default) checks nothing beyond the spec.
  void set_policy(const rooms::LocalEventPolicy* policy) { policy_ = policy; }

  // Receives one PDU (its JSON text) that `origin` sent.
  void receive(const std::string& origin, std::string pdu_json, Done done);

  struct Pdu {
    std::string json;
    Done done;  // its own outcome, once it is durable (or dropped)
  };
  // Receives the PDUs of one transaction of `origin`, in its order; each gets its own outcome.
  void receive_all(const std::string& origin, std::vector<Pdu> pdus);

  // The event id of a PDU of a room this server holds (computed from its reference hash), for
  // answers about PDUs that fail before they are parsed; nullopt otherwise.
  std::optional<std::string> event_id_of(std::string_view pdu_json);

 private:
  struct Checked {
    rooms::EventPtr event;
    bool redacted = false;
  };
  using Task = std::function<void(std::function<void()> next)>;
  using CheckedDone = std::function<void(Result<Checked>)>;
  using StatusDone = std::function<void(Status)>;

  // One PDU of a batch: its text, who waits for it (copies of it in the same transaction
  // share it) and, once known, its outcome.
  struct BatchItem {
    std::string json;
    std::vector<Done> dones;
    Checked checked;  // set once parsed and its signatures hold
    std::optional<Outcome> outcome;
  };
  // The PDUs of one room from one transaction.
  struct Batch {
    std::string origin;
    std::string room_id;
    std::vector<BatchItem> items;
    std::vector<size_t> pending;  // checked, waiting for the next commit, in order
    std::function<void()> done;
  };
  using BatchPtr = std::shared_ptr<Batch>;

  void enqueue(const std::string& room_id, Task task);
  void run_front(const std::string& room_id);

  void run_batch(const BatchPtr& batch);
  // Checks 1-3 of every PDU of `batch`: parsing, duplicates, signatures (together).
  void check_batch(const BatchPtr& batch, std::function<void()> done);
  // Walks the checked PDUs from `index` on: those that need no fetching wait for one commit.
  void advance(const BatchPtr& batch, size_t index);
  // Whether `event` cites a prev event without a known state or an auth event this server
  // lacks, neither of them pending in `batch`.
  bool needs_fetching(const Batch& batch, const rooms::Event& event);
  // Commits the pending PDUs of `batch` in one write; those that could not be stored for want
  // of an event (M_NOT_FOUND) then go through gap filling one by one.
  void flush(const BatchPtr& batch, std::function<void()> done);
  void commit_alone(const BatchPtr& batch, std::shared_ptr<std::vector<size_t>> indexes, size_t at,
                    std::function<void()> done);
  void finish(BatchItem& item, Outcome outcome);
  Outcome stored_outcome(const rooms::EventPtr& event, Result<rooms::ReceivedEvent> r);
  // Checks 4-6 and storage of a PDU whose signatures hold, after filling its gaps.
  void fill_and_commit(const std::string& origin, const Checked& checked, bool fill, Done done);

  // The whole pipeline for one PDU; `fill_gaps` asks the origin for missing prev events
  // (false for events that are themselves the answer to that).
  void process(const std::string& origin, const std::string& pdu_json, bool fill_gaps, Done done);
  Result<rooms::EventPtr> parse(std::string_view pdu_json);
  // Why the room's server ACL refuses PDUs from `origin`, if it does.
  std::optional<std::string> check_origin_acl(const std::string& origin,
                                              const std::string& room_id);
  bool known(const std::string& event_id, bool outliers_count);
  // Checks 2 and 3: signatures of every server that must sign; a bad content hash gives the
  // redacted event.
  void check_signatures(const rooms::EventPtr& event, CheckedDone done);
  // Makes sure every prev event of `event` has a known state, asking `origin`.
  void fill_gaps(const std::string& origin, const rooms::EventPtr& event, bool ask_missing_events,
                 StatusDone done);
  // Fetches the auth events of `event` this server lacks (and their auth chains) from
  // `origin` and stores them as outliers; `done` either way.
  void fetch_auth_events(const std::string& origin, const rooms::EventPtr& event,
                         std::function<void()> done);
  void process_in_order(const std::string& origin, std::shared_ptr<std::vector<std::string>> pdus,
                        size_t index, std::function<void()> done);
  void state_from_remote(const std::string& origin, const rooms::EventPtr& event,
                         std::shared_ptr<std::vector<std::string>> missing, size_t index,
                         StatusDone done);
  // Fetches `ids` from `origin` one by one with /event, keeping those that parse as events of
  // the room and pass the signature checks; their unknown auth events join `ids` (bounded).
  void fetch_events(const std::string& origin, const rooms::RoomVersion& version,
                    const std::string& room_id, std::shared_ptr<std::vector<std::string>> ids,
                    size_t index, std::shared_ptr<std::vector<Checked>> fetched,
                    std::function<void()> done);
  // Stores fetched events as outliers, auth events first; with a `prev_id`, then records the
  // state after it from `state_ids` (the state before it).
  void store_outliers(std::shared_ptr<std::vector<Checked>> fetched, const std::string& prev_id,
                      std::vector<std::string> state_ids, StatusDone done);
  void commit(const Checked& checked, Done done);

  Loop& loop_;
  storage::Store& store_;
  KeyRing& keys_;
  RemoteRoomSource& remote_;
  WorkerPool* workers_;
  Appended appended_;
  const rooms::LocalEventPolicy* policy_ = nullptr;
  std::map<std::string, std::deque<Task>> rooms_;  // room id -> batches waiting, running first
  std::map<std::string, size_t> queued_pdus_;      // room id -> PDUs in its batches
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace haven::federation
