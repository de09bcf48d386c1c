#include <boost/test/unit_test.hpp>

#include "crypto/ed25519.h"
#include "homeserver/base/json.h"
#include "homeserver/push/push_rules.h"
#include "homeserver/rooms/room_service.h"
#include "tests/unit/storage/test_util.h"

namespace haven::push {

namespace {

const std::string kAlice = "@alice:a.org";
const std::string kBob = "@bob:a.org";

// A public room made by alice and joined by bob, in a store of its own.
struct Room {
  storage::test::TempDir dir;
  std::unique_ptr<storage::LmdbStore> store =
      storage::test::open_store(storage::test::small_options(dir));
  crypto::SigningKey key = crypto::SigningKey::generate("test");
  rooms::LocalServer server{"a.org", &key};
  std::string room_id;

  explicit Room(bool bob_joins = true) {
    BOOST_REQUIRE(run([&](storage::WriteTxn& txn) -> Status {
      rooms::CreateRoomRequest request;
      request.preset = rooms::RoomPreset::kPublicChat;
      auto created =
          rooms::create_room(txn, server, request, kAlice, *rooms::find_room_version("11"),
                             rooms::CreateRoomOptions{});
      if (!created.ok()) return std::move(created).error();
      room_id = created->front().event->room_id();
      return {};
    }));
    if (bob_joins) join_bob();
  }

  void join_bob(const std::string& name = "Bobby") {
    send(kBob, "m.room.member", R"({"membership":"join","displayname":")" + name + "\"}", kBob);
  }

  bool run(const std::function<Status(storage::WriteTxn&)>& fn) {
    Status out;
    auto s = store->run([&](storage::WriteTxn& txn) {
      out = fn(txn);
      return out.ok() ? storage::Status::ok_status() : storage::Status::aborted("refused");
    });
    BOOST_TEST_MESSAGE((out.ok() ? "" : out.error().message));
    return s.ok() && out.ok();
  }

  // Sends an event; returns its stream position.
  uint64_t send(const std::string& sender, const std::string& type, const std::string& content,
                std::optional<std::string> state_key = std::nullopt) {
    uint64_t pos = 0;
    BOOST_REQUIRE(run([&](storage::WriteTxn& txn) -> Status {
      rooms::EventDraft d;
      d.room_id = room_id;
      d.sender = sender;
      d.type = type;
      d.state_key = state_key;
      d.content.Parse(content.c_str());
      d.origin_server_ts = 1;
      auto sent = rooms::send_event(txn, server, std::move(d));
      if (!sent.ok()) return std::move(sent).error();
      pos = sent->pos;
      last_event_id = sent->event->event_id();
      return {};
    }));
    return pos;
  }
  std::string last_event_id;

  UnreadCounts counts(const std::string& user, uint64_t after = 0) {
    auto txn = store->begin_read();
    return unread_counts(*txn, room_id, user, after);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(unread)

BOOST_AUTO_TEST_CASE(counts_notifying_and_highlighted_messages_of_others) {
  Room room;
  BOOST_TEST(room.counts(kBob).notification_count == 0);
  uint64_t first = room.send(kAlice, "m.room.message", R"({"msgtype":"m.text","body":"hello"})");
  room.send(kAlice, "m.room.message",
            R"({"msgtype":"m.text","body":"hi","m.mentions":{"user_ids":["@bob:a.org"]}})");
  room.send(kAlice, "m.room.message", R"({"msgtype":"m.notice","body":"bot says"})");
  room.send(kBob, "m.room.message", R"({"msgtype":"m.text","body":"my own @room bob"})");
  auto c = room.counts(kBob);
  BOOST_TEST(c.notification_count == 2);
  BOOST_TEST(c.highlight_count == 1);
  auto after_first = room.counts(kBob, first);
  BOOST_TEST(after_first.notification_count == 1);
  BOOST_TEST(after_first.highlight_count == 1);
  // Alice's view: bob's message mentions nobody she is, in a two-member room.
  auto alice = room.counts(kAlice);
  BOOST_TEST(alice.notification_count == 1);
  BOOST_TEST(alice.highlight_count == 0);
}

BOOST_AUTO_TEST_CASE(events_before_joining_do_not_count_but_a_profile_change_keeps_counts) {
  Room room(/*bob_joins=*/false);
  room.send(kAlice, "m.room.message", R"({"msgtype":"m.text","body":"before bob"})");
  room.send(kAlice, "m.room.message", R"({"msgtype":"m.text","body":"still before"})");
  room.join_bob();
  room.send(kAlice, "m.room.message", R"({"msgtype":"m.text","body":"welcome"})");
  BOOST_TEST(room.counts(kBob).notification_count == 1);
  room.join_bob("Robert");  // a profile change: join after join
  room.send(kAlice, "m.room.message", R"({"msgtype":"m.text","body":"nice name"})");
  BOOST_TEST(room.counts(kBob).notification_count == 2);
  room.send(kBob, "m.room.member", R"({"membership":"leave"})", kBob);
  room.join_bob();
  BOOST_TEST(room.counts(kBob).notification_count == 0);
}

BOOST_AUTO_TEST_CASE(display_name_in_the_room_counts_as_highlight) {
  Room room;
  room.send(kAlice, "m.room.message", R"({"msgtype":"m.text","body":"Bobby, tea?"})");
  auto c = room.counts(kBob);
  BOOST_TEST(c.notification_count == 1);
  BOOST_TEST(c.highlight_count == 1);
}

BOOST_AUTO_TEST_CASE(redacted_events_no_longer_count) {
  Room room;
  room.send(kAlice, "m.room.message", R"({"msgtype":"m.text","body":"oops"})");
  std::string oops = room.last_event_id;
  room.send(kAlice, "m.room.message", R"({"msgtype":"m.text","body":"fine"})");
  BOOST_TEST(room.counts(kBob).notification_count == 2);
  room.send(kAlice, "m.room.redaction", R"({"redacts":")" + oops + R"("})");
  BOOST_TEST(room.counts(kBob).notification_count == 1);
}

BOOST_AUTO_TEST_CASE(user_rules_apply) {
  Room room;
  BOOST_REQUIRE(room.run([&](storage::WriteTxn& txn) {
    Rule mute;
    mute.rule_id = room.room_id;
    return put_rule(txn, kBob, Kind::kRoom, mute, {});
  }));
  room.send(kAlice, "m.room.message", R"({"msgtype":"m.text","body":"hello"})");
  BOOST_TEST(room.counts(kBob).notification_count == 0);
}

BOOST_AUTO_TEST_CASE(scan_is_capped) {
  Room room;
  BOOST_REQUIRE(room.run([&](storage::WriteTxn& txn) -> Status {
    for (int i = 0; i < kMaxUnreadScan + 5; ++i) {
      rooms::EventDraft d;
      d.room_id = room.room_id;
      d.sender = kAlice;
      d.type = "m.room.message";
      d.content.Parse(R"({"msgtype":"m.text","body":"spam"})");
      d.origin_server_ts = i;
      auto sent = rooms::send_event(txn, room.server, std::move(d));
      if (!sent.ok()) return std::move(sent).error();
    }
    return {};
  }));
  BOOST_TEST(room.counts(kBob).notification_count == kMaxUnreadScan);
}

BOOST_AUTO_TEST_CASE(unknown_room_counts_nothing) {
  Room room;
  auto txn = room.store->begin_read();
  auto c = unread_counts(*txn, "!nope:a.org", kBob, 0);
  BOOST_TEST(c.notification_count == 0);
  BOOST_TEST(c.highlight_count == 0);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::push
