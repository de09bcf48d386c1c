// Unit tests of homeserver/delayed/delayed_store: the schedule ordered by due time, restart,
// finalising, the per-user list and the state-slot index.
#include "homeserver/delayed/delayed_store.h"

#include <boost/test/unit_test.hpp>

#include "tests/unit/support/test_store.h"

namespace haven::delayed {
namespace {

using test::TestStore;

DelayedEvent make(std::string id, std::string user, int64_t at, int64_t delay,
                  std::optional<std::string> state_key = std::nullopt) {
  DelayedEvent e;
  e.delay_id = std::move(id);
  e.user_id = std::move(user);
  e.device_id = "DEV";
  e.room_id = "!r:x";
  e.type = state_key ? "m.call.member" : "m.room.message";
  e.state_key = std::move(state_key);
  e.content_json = R"({"body":"hi"})";
  e.scheduled_at = at;
  e.delay_ms = delay;
  return e;
}

storage::Status ok(const Status& s) {
  return s.ok() ? storage::Status::ok_status() : storage::Status::io_error(s.error().message);
}

BOOST_AUTO_TEST_CASE(record_round_trips_through_json) {
  auto e = make("d1", "@a:x", 100, 50, "");
  e.outcome = Outcome::kFailed;
  e.error_json = R"({"errcode":"M_FORBIDDEN","error":"no"})";
  e.finalised_ts = 160;
  auto back = DelayedEvent::from_json(e.to_json());
  BOOST_REQUIRE(back);
  BOOST_TEST(back->delay_id == "d1");
  BOOST_TEST(back->state_key.value_or("absent") == "");
  BOOST_TEST(back->content_json == e.content_json);
  BOOST_TEST(back->due_ms() == 150);
  BOOST_TEST((back->outcome == Outcome::kFailed));
  BOOST_TEST(back->error_json == e.error_json);
  BOOST_TEST(!DelayedEvent::from_json("{\"delay_id\":\"x\",\"outcome\":\"odd\"}"));
  BOOST_TEST(!DelayedEvent::from_json("not json"));
}

BOOST_AUTO_TEST_CASE(due_events_come_soonest_first_and_restart_moves_one) {
  TestStore db;
  db.write([](storage::WriteTxn& t) {
    for (auto& e : {make("late", "@a:x", 0, 3000), make("early", "@a:x", 0, 1000),
                    make("mid", "@b:x", 0, 2000)}) {
      if (auto s = schedule(t, e); !s.ok()) return ok(s);
    }
    return storage::Status::ok_status();
  });
  {
    auto txn = db.read();
    BOOST_TEST(earliest_due(*txn).value_or(-1) == 1000);
    BOOST_TEST(due_by(*txn, 2500, 10) == (std::vector<std::string>{"early", "mid"}));
    BOOST_TEST(due_by(*txn, 5000, 1) == std::vector<std::string>{"early"});
    BOOST_TEST(due_by(*txn, 999, 10).empty());
  }
  db.write([](storage::WriteTxn& t) {
    auto e = get(t, "early");
    BOOST_REQUIRE(e);
    return ok(restart(t, *e, 4000));  // now due at 5000
  });
  auto txn = db.read();
  BOOST_TEST(earliest_due(*txn).value_or(-1) == 2000);
  BOOST_TEST(due_by(*txn, 10000, 10) == (std::vector<std::string>{"mid", "late", "early"}));
  auto mine = scheduled_of_user(*txn, "@a:x");
  BOOST_REQUIRE(mine.size() == 2u);
  BOOST_TEST(mine[0].delay_id == "late");
  BOOST_TEST(mine[1].delay_id == "early");
}

BOOST_AUTO_TEST_CASE(finalised_events_leave_the_schedule_but_stay_readable) {
  TestStore db;
  db.write([](storage::WriteTxn& t) { return ok(schedule(t, make("d", "@a:x", 0, 10, "k"))); });
  db.write([](storage::WriteTxn& t) {
    auto e = get(t, "d");
    BOOST_REQUIRE(e);
    return ok(finalise(t, *e, Outcome::kSent, 20, "$ev"));
  });
  auto txn = db.read();
  BOOST_TEST(!earliest_due(*txn));
  BOOST_TEST(scheduled_of_user(*txn, "@a:x").empty());
  BOOST_TEST(others_at_state(*txn, "!r:x", "m.call.member", "k", "@b:x").empty());
  auto e = get(*txn, "d");
  BOOST_REQUIRE(e);
  BOOST_TEST((e->outcome == Outcome::kSent));
  BOOST_TEST(e->event_id == "$ev");
  BOOST_TEST(e->finalised_ts == 20);
}

BOOST_AUTO_TEST_CASE(finalised_events_are_forgotten_after_the_retention) {
  TestStore db;
  db.write([](storage::WriteTxn& t) {
    if (auto s = schedule(t, make("old", "@a:x", 0, 10)); !s.ok()) return ok(s);
    return ok(schedule(t, make("new", "@a:x", 0, 10)));
  });
  db.write([](storage::WriteTxn& t) {
    auto e = get(t, "old");
    BOOST_REQUIRE(e);
    return ok(finalise(t, *e, Outcome::kCancelled, 100));
  });
  db.write([](storage::WriteTxn& t) {
    auto e = get(t, "new");
    BOOST_REQUIRE(e);
    return ok(finalise(t, *e, Outcome::kCancelled, 101 + kFinalisedRetentionMs));
  });
  auto txn = db.read();
  BOOST_TEST(!get(*txn, "old"));
  BOOST_TEST(get(*txn, "new").has_value());
}

BOOST_AUTO_TEST_CASE(state_slot_index_names_only_other_users_events) {
  TestStore db;
  db.write([](storage::WriteTxn& t) {
    if (auto s = schedule(t, make("a1", "@a:x", 0, 10, "slot")); !s.ok()) return ok(s);
    if (auto s = schedule(t, make("b1", "@b:x", 0, 10, "slot")); !s.ok()) return ok(s);
    if (auto s = schedule(t, make("a2", "@a:x", 0, 10, "other")); !s.ok()) return ok(s);
    return ok(schedule(t, make("m", "@a:x", 0, 10)));  // not a state event
  });
  auto txn = db.read();
  BOOST_TEST(others_at_state(*txn, "!r:x", "m.call.member", "slot", "@a:x") ==
             std::vector<std::string>{"b1"});
  BOOST_TEST(others_at_state(*txn, "!r:x", "m.call.member", "slot", "@c:x") ==
             (std::vector<std::string>{"a1", "b1"}));
  BOOST_TEST(others_at_state(*txn, "!r:x", "m.call.member", "", "@c:x").empty());
  BOOST_TEST(others_at_state(*txn, "!r:x", "m.room.message", "slot", "@c:x").empty());
}

}  // namespace
}  // namespace haven::delayed

namespace haven::delayed {
namespace {

// The content a client gave is sealed with the room's at-rest key; purging the room deletes
// its records with their indexes before the key goes, and leaves other rooms' alone.
BOOST_AUTO_TEST_CASE(records_are_sealed_and_a_room_purge_deletes_its_own) {
  test::TestStore db;
  auto doomed = make("d1", "@a:x", 0, 1000, "");
  doomed.content_json = R"({"body":"sealed delayed text"})";
  auto kept = make("k1", "@a:x", 0, 2000);
  kept.room_id = "!kept:x";
  db.write([&](storage::WriteTxn& t) {
    for (auto& e : {doomed, kept}) {
      if (auto s = schedule(t, e); !s.ok()) return ok(s);
    }
    return storage::Status::ok_status();
  });
  {
    auto txn = db.read();
    auto raw = txn->get(storage::Table::kDelayedEvents, "d1");
    BOOST_REQUIRE(raw);
    BOOST_TEST(raw->find("sealed delayed text") == std::string_view::npos);
    BOOST_TEST(get(*txn, "d1")->content_json == doomed.content_json);
  }
  db.write([](storage::WriteTxn& t) { return ok(delete_room_delayed(t, "!r:x")); });
  auto txn = db.read();
  BOOST_TEST(!get(*txn, "d1"));
  BOOST_TEST(others_at_state(*txn, "!r:x", "m.call.member", "", "@z:x").empty());
  BOOST_TEST(due_by(*txn, 5000, 10) == std::vector<std::string>{"k1"});
  BOOST_TEST(scheduled_of_user(*txn, "@a:x").size() == 1u);
  BOOST_TEST(get(*txn, "k1").has_value());
}

// A record stored before at-rest sealing is plain JSON; the purge still finds it by its room.
BOOST_AUTO_TEST_CASE(a_room_purge_deletes_its_plain_records_too) {
  test::TestStore db;
  auto plain = make("p1", "@a:x", 0, 1000, "");
  db.write([&](storage::WriteTxn& t) {
    if (auto s = schedule(t, plain); !s.ok()) return ok(s);
    return t.put(storage::Table::kDelayedEvents, "p1", plain.to_json());  // as an old store held it
  });
  BOOST_REQUIRE(get(*db.read(), "p1").has_value());
  db.write([](storage::WriteTxn& t) { return ok(delete_room_delayed(t, "!r:x")); });
  auto txn = db.read();
  BOOST_TEST(!get(*txn, "p1"));
  BOOST_TEST(due_by(*txn, 5000, 10).empty());
  BOOST_TEST(scheduled_of_user(*txn, "@a:x").empty());
  BOOST_TEST(others_at_state(*txn, "!r:x", "m.call.member", "", "@z:x").empty());
}

}  // namespace
}  // namespace haven::delayed
