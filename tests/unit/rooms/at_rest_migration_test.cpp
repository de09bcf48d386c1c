// Unit tests of homeserver/rooms/at_rest_migration: a store written before per-room at-rest
// keys (plain event records, no keys) is sealed once at start-up and reads as before.
#include "homeserver/rooms/at_rest_migration.h"

#include <boost/test/unit_test.hpp>

#include "homeserver/base/json.h"
#include "homeserver/rooms/create_room.h"
#include "homeserver/rooms/event_cache.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/room_service.h"
#include "storage/keys.h"
#include "tests/unit/rooms/test_room.h"
#include "tests/unit/support/test_store.h"

namespace haven::rooms {
namespace {

using storage::Table;

const std::string kAlice = "@alice:x";

// The record layout before at-rest keys: u64 pos | u64 group | u8 flags | version \0 | PDU JSON.
std::string old_record(const StoredEvent& e, std::string_view version) {
  std::string out = storage::encode_u64(e.pos) + storage::encode_u64(e.state_group);
  out.push_back(static_cast<char>(e.redacted ? 1 : 0));
  out.append(version);
  out.push_back('\0');
  out.append(json::to_string(e.event->json()));
  return out;
}

struct OldStore {
  haven::test::TestStore db;
  LocalServer server{"x", &test::test_key(), nullptr};
  std::string room;
  std::vector<std::string> events;

  OldStore() {
    db.write([&](storage::WriteTxn& txn) {
      auto req = parse_create_room_request(
          test::parse(R"({"preset":"private_chat","name":"Old Name","topic":"Old Topic"})"));
      BOOST_REQUIRE(req.ok());
      auto sent = create_room(txn, server, *req, kAlice, *find_room_version("11"), {});
      BOOST_REQUIRE(sent.ok());
      room = sent->front().event->room_id();
      EventDraft d;
      d.room_id = room;
      d.sender = kAlice;
      d.type = "m.room.message";
      d.content.CopyFrom(test::parse(R"({"body":"old secret text","url":"mxc://x/oldMedia"})"),
                         d.content.GetAllocator());
      BOOST_REQUIRE(send_event(txn, server, std::move(d)).ok());
      return storage::Status::ok_status();
    });
    auto txn = db.read();
    scan_timeline(*txn, room, 0, storage::Direction::kForward, [&](uint64_t, std::string_view id) {
      events.emplace_back(id);
      return true;
    });
    txn.reset();
    // Rewrite it as the previous version stored it: plain records, no keys, no marker.
    db.write([&](storage::WriteTxn& w) {
      for (const auto& id : events) {
        auto e = get_event(w, id);
        BOOST_REQUIRE(e);
        auto s = w.put(Table::kEvents, id, old_record(*e, "11"));
        if (!s.ok()) return s;
        EventCache::shared().erase(id);
      }
      auto s = w.del(Table::kAtRestKeys, room);
      if (s.ok()) s = w.del(Table::kMeta, "at_rest_sealed");
      if (s.ok()) s = w.del_prefix(Table::kRoomMedia, {});
      if (s.ok()) s = w.del_prefix(Table::kMediaRooms, {});
      return s;
    });
  }

  bool any_record_holds(std::string_view text) {
    auto txn = db.read();
    bool found = false;
    for (const auto& id : events) {
      auto raw = txn->get(Table::kEvents, id);
      if (raw && raw->find(text) != std::string_view::npos) found = true;
    }
    return found;
  }
};

BOOST_AUTO_TEST_SUITE(at_rest_migration)

BOOST_AUTO_TEST_CASE(plain_records_are_sealed_once_and_read_as_before) {
  OldStore old;
  BOOST_REQUIRE(old.any_record_holds("old secret text"));
  {
    auto txn = old.db.read();
    BOOST_TEST(!get_event(*txn, old.events.back()));  // plain records are not served as such
  }
  BOOST_REQUIRE(seal_plain_rows_once(old.db.store()).ok());
  for (const char* text : {"old secret text", "Old Name", "Old Topic"}) {
    BOOST_TEST(!old.any_record_holds(text), text);
  }
  auto txn = old.db.read();
  BOOST_TEST(txn->get(Table::kMeta, "at_rest_sealed").has_value());
  // The old message's media is indexed for the room's purge, as a new one would be.
  BOOST_TEST(txn->get(Table::kRoomMedia,
                      storage::KeyBuilder().str(old.room).str("x").tail("oldMedia").build())
                 .has_value());
  for (const auto& id : old.events) {
    EventCache::shared().erase(id);
    BOOST_TEST(get_event(*txn, id).has_value(), id);
  }
  auto message = get_event(*txn, old.events.back());
  BOOST_REQUIRE(message);
  BOOST_TEST(json::get_string(message->event->content(), "body") == "old secret text");
  auto topic = current_state_event(*txn, old.room, "m.room.topic", "");
  BOOST_REQUIRE(topic);
  BOOST_TEST(json::get_string(topic->content(), "topic") == "Old Topic");
}

BOOST_AUTO_TEST_CASE(a_sealed_store_is_left_alone) {
  OldStore old;
  BOOST_REQUIRE(seal_plain_rows_once(old.db.store()).ok());
  std::string before;
  {
    auto txn = old.db.read();
    before = std::string(*txn->get(Table::kEvents, old.events.back()));
  }
  BOOST_REQUIRE(seal_plain_rows_once(old.db.store()).ok());
  auto txn = old.db.read();
  BOOST_TEST(std::string(*txn->get(Table::kEvents, old.events.back())) == before);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace haven::rooms
