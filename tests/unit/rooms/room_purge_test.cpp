// Unit tests of homeserver/rooms/room_purge: a purged room leaves nothing behind but its local
// members' leave records and a stream head, in bounded steps, and other rooms are untouched.
#include "homeserver/rooms/room_purge.h"

#include <boost/test/unit_test.hpp>

#include "homeserver/base/json.h"
#include "homeserver/rooms/create_room.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/room_details.h"
#include "homeserver/rooms/room_service.h"
#include "storage/keys.h"
#include "tests/unit/rooms/test_room.h"
#include "tests/unit/support/test_store.h"

namespace haven::rooms {
namespace {

using storage::KeyBuilder;
using storage::Table;

const std::string kAlice = "@alice:x";
const std::string kBob = "@bob:x";
const std::string kRemote = "@rem:y";

struct World {
  haven::test::TestStore db;
  LocalServer server{"x", &test::test_key(), nullptr};
  LocalServer remote{"y", &test::test_key(), nullptr};  // signs the remote user's events
  std::string room, other;
  std::vector<std::string> room_events;

  std::string create(const std::string& body) {
    std::string id;
    db.write([&](storage::WriteTxn& txn) {
      auto req = parse_create_room_request(test::parse(body));
      BOOST_REQUIRE(req.ok());
      auto sent = create_room(txn, server, *req, kAlice, *find_room_version("11"), {});
      BOOST_REQUIRE_MESSAGE(sent.ok(), (sent.ok() ? "" : sent.error().message));
      id = sent->front().event->room_id();
      return storage::Status::ok_status();
    });
    return id;
  }

  std::string send(const std::string& room_id, const std::string& sender, const std::string& type,
                   std::optional<std::string> state_key, const std::string& content) {
    std::string id;
    db.write([&](storage::WriteTxn& txn) {
      EventDraft d;
      d.room_id = room_id;
      d.sender = sender;
      d.type = type;
      d.state_key = state_key;
      d.content.CopyFrom(test::parse(content), d.content.GetAllocator());
      d.origin_server_ts = 1000;
      auto sent = send_event(txn, sender == kRemote ? remote : server, std::move(d));
      BOOST_REQUIRE_MESSAGE(sent.ok(), (sent.ok() ? "" : sent.error().message));
      id = sent->event->event_id();
      return storage::Status::ok_status();
    });
    return id;
  }

  std::string join(const std::string& room_id, const std::string& user) {
    return send(room_id, user, "m.room.member", user, R"({"membership":"join"})");
  }

  World() {
    room = create(R"({"preset":"public_chat","name":"Doomed"})");
    other = create(R"({"preset":"public_chat","name":"Kept"})");
    join(room, kBob);
    join(room, kRemote);
    join(other, kBob);
    std::string msg = send(room, kBob, "m.room.message", std::nullopt, R"({"body":"hi"})");
    send(room, kAlice, "m.reaction", std::nullopt,
         R"({"m.relates_to":{"rel_type":"m.annotation","event_id":")" + msg + R"(","key":"x"}})");
    send(room, kAlice, "m.room.redaction", std::nullopt, R"({"redacts":")" + msg + R"("})");
    send(other, kBob, "m.room.message", std::nullopt, R"({"body":"stays"})");
    db.write([&](storage::WriteTxn& txn) {
      // A receipt, room account data and an alias, in the layouts their modules use.
      for (const auto& [r, pos] : {std::pair{room, 7ull}, std::pair{other, 8ull}}) {
        std::string key = KeyBuilder().str(r).str("m.read").str(kBob).tail("").take();
        auto s = txn.put(Table::kReceipts, key, R"({"event_id":"$e","pos":)" +
                                                    std::to_string(pos) + "}");
        if (s.ok()) s = txn.put(Table::kReceiptsStream, storage::encode_u64(pos), key);
        if (s.ok()) {
          s = txn.put(Table::kAccountData, KeyBuilder().str(kBob).str(r).tail("m.tag").take(),
                      storage::encode_u64(pos) + "{}");
        }
        if (s.ok()) {
          s = txn.put(Table::kAccountDataStream, KeyBuilder().str(kBob).u64(pos).take(),
                      KeyBuilder().str(r).tail("m.tag").take());
        }
        if (!s.ok()) return s;
      }
      auto s = txn.put(Table::kRoomAliases, "#doomed:x", R"({"room_id":")" + room + R"("})");
      if (!s.ok()) return s;
      return txn.put(Table::kRoomAliasesByRoom, KeyBuilder().str(room).tail("#doomed:x").take(),
                     "");
    });
    // Bob leaves (as the admin API makes members do); Alice stays, as if her leave failed.
    send(room, kBob, "m.room.member", kBob, R"({"membership":"leave"})");
    auto txn = db.read();
    scan_timeline(*txn, room, 0, storage::Direction::kForward, [&](uint64_t, std::string_view id) {
      room_events.emplace_back(id);
      return true;
    });
  }

  size_t count(Table table, const std::string& prefix) {
    size_t n = 0;
    auto txn = db.read();
    txn->scan(table, prefix, {}, storage::Direction::kForward, [&](auto, auto) {
      ++n;
      return true;
    });
    return n;
  }

  // Purges in steps of `budget`; returns how many steps it took.
  int purge(size_t budget) {
    int steps = 0;
    for (bool done = false; !done; ++steps) {
      BOOST_REQUIRE(steps < 1000);
      db.write([&](storage::WriteTxn& txn) {
        auto step = purge_room_step(txn, room, "x", budget);
        BOOST_REQUIRE(step.ok());
        BOOST_TEST(step->removed <= budget);
        done = step->done;
        return storage::Status::ok_status();
      });
    }
    return steps;
  }
};

std::string prefix_of(const std::string& s) { return KeyBuilder().str(s).take(); }

BOOST_AUTO_TEST_SUITE(room_purge)

BOOST_AUTO_TEST_CASE(a_purged_room_leaves_only_local_leave_records_and_the_stream_head) {
  World w;
  BOOST_TEST(w.room_events.size() > 8u);
  int steps = w.purge(3);
  BOOST_TEST(steps > 4);  // the budget splits the work

  auto txn = w.db.read();
  BOOST_TEST(!get_room(*txn, w.room));
  BOOST_TEST(!room_details(*txn, w.room, "x"));
  for (const auto& id : w.room_events) BOOST_TEST(!txn->get(Table::kEvents, id), id);
  txn.reset();
  BOOST_TEST(w.count(Table::kRoomTimeline, prefix_of(w.room)) == 0u);
  BOOST_TEST(w.count(Table::kCurrentState, prefix_of(w.room)) == 0u);
  BOOST_TEST(w.count(Table::kRoomMembers, prefix_of(w.room)) == 0u);
  BOOST_TEST(w.count(Table::kReceipts, prefix_of(w.room)) == 0u);
  BOOST_TEST(w.count(Table::kRoomAliasesByRoom, prefix_of(w.room)) == 0u);
  BOOST_TEST(w.count(Table::kRelations, "") == 0u);
  BOOST_TEST(w.count(Table::kRedactions, "") == 0u);
  BOOST_TEST(w.count(Table::kAccountData, KeyBuilder().str(kBob).str(w.room).take()) == 0u);

  txn = w.db.read();
  BOOST_TEST(!txn->get(Table::kRoomAliases, "#doomed:x"));
  BOOST_TEST(!txn->get(Table::kReceiptsStream, storage::encode_u64(7)));
  BOOST_TEST(!txn->get(Table::kAccountDataStream, KeyBuilder().str(kBob).u64(7).take()));
  // Bob's leave stays so his client can hear of it; Alice's join and the remote user go.
  auto bob = membership(*txn, kBob, w.room);
  BOOST_REQUIRE(bob.has_value());
  BOOST_TEST(bob->membership == "leave");
  BOOST_TEST(!membership(*txn, kAlice, w.room));
  BOOST_TEST(!membership(*txn, kRemote, w.room));
  // Bob's leave was the newest event anywhere: its stream row stays as the head.
  uint64_t head = current_events_pos(*txn);
  BOOST_TEST(head == bob->pos);
  size_t stream_rows_of_room = 0;
  txn->scan(Table::kStreamEvents, {}, {}, storage::Direction::kForward,
            [&](std::string_view, std::string_view v) {
              if (v.substr(0, w.room.size() + 1) == prefix_of(w.room)) ++stream_rows_of_room;
              return true;
            });
  BOOST_TEST(stream_rows_of_room == 1u);
}

BOOST_AUTO_TEST_CASE(other_rooms_and_their_records_are_untouched) {
  World w;
  size_t other_timeline = w.count(Table::kRoomTimeline, prefix_of(w.other));
  size_t other_state = w.count(Table::kCurrentState, prefix_of(w.other));
  w.purge(1000);
  BOOST_TEST(w.count(Table::kRoomTimeline, prefix_of(w.other)) == other_timeline);
  BOOST_TEST(w.count(Table::kCurrentState, prefix_of(w.other)) == other_state);
  BOOST_TEST(w.count(Table::kReceipts, prefix_of(w.other)) == 1u);
  BOOST_TEST(w.count(Table::kAccountData, KeyBuilder().str(kBob).str(w.other).take()) == 1u);
  auto txn = w.db.read();
  BOOST_TEST(txn->get(Table::kReceiptsStream, storage::encode_u64(8)).has_value());
  auto details = room_details(*txn, w.other, "x");
  BOOST_REQUIRE(details.has_value());
  BOOST_TEST(details->joined_members == 2);
  BOOST_TEST(membership(*txn, kBob, w.other)->membership == "join");
  // The other room can still be written to: its state groups survived.
  txn.reset();
  w.send(w.other, kBob, "m.room.message", std::nullopt, R"({"body":"still here"})");
}

BOOST_AUTO_TEST_CASE(purging_twice_or_an_unknown_room_is_harmless) {
  World w;
  w.purge(50);
  BOOST_TEST(w.purge(50) == 1);
  w.room = "!unknown:x";
  BOOST_TEST(w.purge(50) == 1);
}

BOOST_AUTO_TEST_CASE(nothing_can_be_sent_to_a_room_being_purged) {
  World w;
  w.db.write([&](storage::WriteTxn& txn) {
    auto step = purge_room_step(txn, w.room, "x", 1);
    BOOST_REQUIRE(step.ok());
    BOOST_TEST(!step->done);
    EventDraft d;
    d.room_id = w.room;
    d.sender = kAlice;
    d.type = "m.room.message";
    auto sent = send_event(txn, w.server, std::move(d));
    BOOST_TEST(!sent.ok());
    BOOST_TEST(sent.error().errcode == "M_NOT_FOUND");
    return storage::Status::ok_status();
  });
}

// What a purge cannot delete (LMDB's freed pages) is sealed with a key the first step destroys.
BOOST_AUTO_TEST_CASE(stored_events_are_sealed_and_the_first_step_destroys_the_key) {
  World w;
  {
    auto txn = w.db.read();
    for (const auto& id : w.room_events) {
      auto raw = txn->get(Table::kEvents, id);
      BOOST_REQUIRE(raw);
      BOOST_TEST(raw->find("Doomed") == std::string_view::npos, id);
      BOOST_TEST(raw->find("m.room.member") == std::string_view::npos, id);
      BOOST_TEST(get_event(*txn, id).has_value(), id);
    }
    BOOST_TEST(txn->at_rest_key(w.room) != nullptr);
  }
  w.db.write([&](storage::WriteTxn& txn) {
    auto step = purge_room_step(txn, w.room, "x", 1);
    BOOST_REQUIRE(step.ok());
    BOOST_TEST(!step->done);
    return storage::Status::ok_status();
  });
  auto txn = w.db.read();
  BOOST_TEST(!txn->at_rest_key(w.room));
  BOOST_TEST(txn->at_rest_key(w.other) != nullptr);
  // The rows not yet deleted are there, and unreadable (the event cache was cleared too).
  const std::string& last = w.room_events.back();
  BOOST_TEST(txn->get(Table::kEvents, last).has_value());
  BOOST_TEST(!get_event(*txn, last).has_value());
  auto name = current_state_event(*txn, w.other, "m.room.name", "");
  BOOST_REQUIRE(name);
  BOOST_TEST(json::get_string(name->content(), "name") == "Kept");
}

BOOST_AUTO_TEST_CASE(blocks_are_recorded_and_lifted) {
  haven::test::TestStore db;
  db.write([](storage::WriteTxn& txn) { return block_room(txn, "!r:x", RoomBlock{kAlice, 42}); });
  {
    auto txn = db.read();
    auto block = room_block(*txn, "!r:x");
    BOOST_REQUIRE(block.has_value());
    BOOST_TEST(block->user_id == kAlice);
    BOOST_TEST(block->ts == 42);
    BOOST_TEST(!room_block(*txn, "!s:x"));
  }
  db.write([](storage::WriteTxn& txn) { return unblock_room(txn, "!r:x"); });
  auto txn = db.read();
  BOOST_TEST(!room_block(*txn, "!r:x"));
}

BOOST_AUTO_TEST_CASE(room_details_read_the_current_state) {
  World w;
  auto txn = w.db.read();
  auto d = room_details(*txn, w.room, "x");
  BOOST_REQUIRE(d.has_value());
  BOOST_TEST(d->name.value_or("") == "Doomed");
  BOOST_TEST(d->creator == kAlice);
  BOOST_TEST(d->version == "11");
  BOOST_TEST(d->join_rules == "public");
  BOOST_TEST(d->joined_members == 2);        // alice and the remote user; bob left
  BOOST_TEST(d->joined_local_members == 1);  // alice
  BOOST_TEST(d->federatable);
  BOOST_TEST(!d->encryption.has_value());
  BOOST_TEST(d->state_events >= 6);
  BOOST_TEST(joined_members(*txn, w.room) == (std::vector<std::string>{kAlice, kRemote}));
  auto ids = all_room_ids(*txn);
  BOOST_TEST(ids.size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace haven::rooms
