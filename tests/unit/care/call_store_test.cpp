// Unit tests of appservices/care/call_store: a room's calls saved with its record in one
// transaction, the ledger scanned by start time and by owner, and a replayed call kept once.
#include "appservices/care/call_store.h"

#include <boost/test/unit_test.hpp>

#include "tests/unit/support/test_store.h"

using namespace haven::care;

namespace {

EndedCall ended(const std::string& room, const std::string& owner, int64_t started,
                int64_t ended_ms) {
  EndedCall e;
  e.room_id = room;
  e.call_id = "";
  e.owner = owner;
  e.started_ms = started;
  e.ended_ms = ended_ms;
  e.minutes = call_minutes(started, ended_ms);
  e.participants = {owner};
  e.end_reason = "left";
  return e;
}

std::vector<int64_t> starts(const CallStore& store, int64_t from, int64_t to,
                            const std::optional<std::string>& owner = std::nullopt) {
  std::vector<int64_t> out;
  store.scan_ledger(from, to, owner, [&](const EndedCall& e) {
    out.push_back(e.started_ms);
    return true;
  });
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(call_store)

BOOST_AUTO_TEST_CASE(live_calls_and_room_record_saved_together) {
  haven::test::TestStore db;
  CallStore calls(db.store());
  TemporaryStore rooms(db.store());
  LiveCall live;
  live.room_id = "!a:hs";
  live.call_id = "c";
  live.started_ms = 10;
  live.slots = {CallSlot{"k", "k", "@u:hs", 99}};
  live.participants = {"@u:hs"};
  live.owner = "@o:hs";
  RoomCalls room{{live}, {}, true};
  TemporaryRoom record{"!a:hs", "@o:hs", 0, 1000, true, 1000};
  BOOST_REQUIRE(calls.save("!a:hs", room, record).ok());
  auto back = calls.live_in_room("!a:hs");
  BOOST_REQUIRE_EQUAL(back.size(), 1u);
  BOOST_TEST(back[0].slots[0].expires_ms == 99);
  BOOST_TEST(back[0].participants == live.participants);
  BOOST_TEST(rooms.room("!a:hs")->in_call);
  BOOST_TEST(rooms.due(5000, 10).empty(), "a room in a call is never due");
  BOOST_TEST(calls.rooms_with_live_calls(10) == std::vector<std::string>{"!a:hs"});
  // The call ends: the live record goes, the ledger gets it.
  RoomCalls after{{}, {ended("!a:hs", "@o:hs", 10, 70000)}, true};
  BOOST_REQUIRE(calls.save("!a:hs", after, std::nullopt).ok());
  BOOST_TEST(calls.live_in_room("!a:hs").empty());
  BOOST_TEST(after.ended[0].seq > 0u);
  BOOST_TEST(starts(calls, 0, INT64_MAX) == std::vector<int64_t>{10});
}

BOOST_AUTO_TEST_CASE(ledger_scans_by_range_and_owner) {
  haven::test::TestStore db;
  CallStore calls(db.store());
  RoomCalls room{{},
                 {ended("!a:hs", "@x:hs", 300, 400), ended("!b:hs", "@y:hs", 100, 200),
                  ended("!c:hs", "@x:hs", 200, 250)},
                 true};
  BOOST_REQUIRE(calls.save("!a:hs", room, std::nullopt).ok());
  BOOST_TEST(starts(calls, 0, INT64_MAX) == (std::vector<int64_t>{100, 200, 300}));
  BOOST_TEST(starts(calls, 200, 300) == std::vector<int64_t>{200});  // to is exclusive
  BOOST_TEST(starts(calls, 0, INT64_MAX, "@x:hs") == (std::vector<int64_t>{200, 300}));
  BOOST_TEST(starts(calls, 250, INT64_MAX, "@x:hs") == std::vector<int64_t>{300});
  BOOST_TEST(starts(calls, 0, INT64_MAX, "@nobody:hs").empty());
}

BOOST_AUTO_TEST_CASE(a_replayed_call_is_recorded_once) {
  haven::test::TestStore db;
  CallStore calls(db.store());
  for (int i = 0; i < 2; ++i) {
    RoomCalls room{{}, {ended("!a:hs", "@x:hs", 100, 200)}, true};
    BOOST_REQUIRE(calls.save("!a:hs", room, std::nullopt).ok());
  }
  BOOST_TEST(starts(calls, 0, INT64_MAX).size() == 1u);
  BOOST_TEST(starts(calls, 0, INT64_MAX, "@x:hs").size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
