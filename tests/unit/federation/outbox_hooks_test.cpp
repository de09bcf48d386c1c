// What the room core and device changes queue for other servers through the outbox
// (federation/outbox.cpp queue_event, federation/device_announce.cpp): local events for every
// other server with a joined member, a kicked user's server too, nothing for servers not
// allowed; m.device_list_update with chained stream ids and m.signing_key_update.
#include <boost/test/unit_test.hpp>

#include "federation/device_announce.h"
#include "federation/outbox.h"
#include "homeserver/accounts/account_store.h"
#include "homeserver/base/json.h"
#include "homeserver/e2ee/cross_signing.h"
#include "homeserver/e2ee/device_keys.h"
#include "homeserver/rooms/create_room.h"
#include "homeserver/rooms/room_service.h"
#include "tests/unit/rooms/test_room.h"
#include "tests/unit/support/test_store.h"

namespace haven::federation {
namespace {

const std::string kAlice = "@alice:x";
const std::string kRemote = "@rem:y";
const std::string kOther = "@other:w";  // of a server x does not federate with

struct World {
  test::TestStore db;
  Loop loop;  // the outbox's, never run: only the queueing is tested here
  ServerAllowList allowed{{"y", "z"}};
  Outbox outbox{loop, db.store(), "x", allowed, [](OutboundRequest, FederationClient::Done) {}};
  rooms::LocalServer server{"x", &rooms::test::test_key(), nullptr, &outbox};
  rooms::LocalServer remote{"y", &rooms::test::test_key(), nullptr};  // a remote user's events
  rooms::LocalServer other_remote{"w", &rooms::test::test_key(), nullptr};

  std::string create() {
    std::string id;
    db.write([&](storage::WriteTxn& txn) {
      auto req = rooms::parse_create_room_request(rooms::test::parse(R"({"preset":"public_chat"})"));
      BOOST_REQUIRE(req.ok());
      auto sent = rooms::create_room(txn, server, *req, kAlice, *rooms::find_room_version("11"), {});
      BOOST_REQUIRE(sent.ok());
      id = sent->front().event->room_id();
      return storage::Status::ok_status();
    });
    return id;
  }

  std::string send(const std::string& room_id, const std::string& sender, const std::string& type,
                   std::optional<std::string> state_key, const std::string& content) {
    std::string id;
    const rooms::LocalServer& as = sender == kRemote ? remote : sender == kOther ? other_remote
                                                                                 : server;
    db.write([&](storage::WriteTxn& txn) {
      rooms::EventDraft d;
      d.room_id = room_id;
      d.sender = sender;
      d.type = type;
      d.state_key = state_key;
      d.content.CopyFrom(rooms::test::parse(content), d.content.GetAllocator());
      auto sent = rooms::send_event(txn, as, std::move(d));
      BOOST_REQUIRE_MESSAGE(sent.ok(), (sent.ok() ? "" : sent.error().message));
      id = sent->event->event_id();
      return storage::Status::ok_status();
    });
    return id;
  }
  std::string join(const std::string& room_id, const std::string& user) {
    return send(room_id, user, "m.room.member", user, R"({"membership":"join"})");
  }
  std::vector<std::string> queued_event_ids(const std::string& destination) {
    auto txn = db.read();
    std::vector<std::string> out;
    for (const auto& p : peek_pdus(*txn, destination, 1000)) out.push_back(p.event_id);
    return out;
  }
  std::vector<json::Document> queued_edus(const std::string& destination) {
    auto txn = db.read();
    std::vector<json::Document> out;
    for (const auto& e : peek_edus(*txn, destination, 1000)) {
      out.push_back(json::parse_trusted(e.json));
    }
    return out;
  }
  void announce(const std::string& user_id) {
    db.write([&](storage::WriteTxn& txn) {
      return queue_device_list_updates(txn, outbox, "x", user_id);
    });
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(outbox_hooks)

BOOST_AUTO_TEST_CASE(a_local_event_goes_to_every_other_server_with_a_joined_member) {
  World w;
  std::string lonely = w.create();
  w.send(lonely, kAlice, "m.room.message", std::nullopt, R"({"body":"only us"})");
  {
    auto txn = w.db.read();
    BOOST_TEST(queued_destinations(*txn).empty());
  }
  std::string room = w.create();
  w.join(room, kRemote);
  std::string msg = w.send(room, kAlice, "m.room.message", std::nullopt, R"({"body":"hi"})");
  BOOST_TEST((w.queued_event_ids("y") == std::vector<std::string>{msg}));
  BOOST_TEST(w.queued_event_ids("z").empty());
}

BOOST_AUTO_TEST_CASE(a_kicked_users_server_hears_of_the_kick) {
  World w;
  std::string room = w.create();
  w.join(room, kRemote);
  std::string kick = w.send(room, kAlice, "m.room.member", kRemote, R"({"membership":"leave"})");
  BOOST_TEST((w.queued_event_ids("y") == std::vector<std::string>{kick}));
  w.send(room, kAlice, "m.room.message", std::nullopt, R"({"body":"gone"})");
  BOOST_TEST((w.queued_event_ids("y") == std::vector<std::string>{kick}));
}

BOOST_AUTO_TEST_CASE(servers_not_allowed_get_nothing) {
  World w;
  std::string room = w.create();
  w.join(room, kRemote);
  w.join(room, kOther);
  std::string msg = w.send(room, kAlice, "m.room.message", std::nullopt, R"({"body":"hi"})");
  BOOST_TEST((w.queued_event_ids("y") == std::vector<std::string>{msg}));
  BOOST_TEST(w.queued_event_ids("w").empty());
}

BOOST_AUTO_TEST_CASE(device_changes_are_announced_with_chained_stream_ids) {
  World w;
  std::string room = w.create();
  w.join(room, kRemote);
  w.db.write([&](storage::WriteTxn& txn) {
    accounts::Device d;
    d.user_id = kAlice;
    d.device_id = "PHONE";
    d.display_name = "Alice's phone";
    if (auto s = accounts::put_device(txn, d); !s.ok()) return s;
    return e2ee::put_device_keys(txn, kAlice, "PHONE",
                                 R"({"user_id":"@alice:x","device_id":"PHONE","keys":{}})");
  });
  w.announce(kAlice);
  auto edus = w.queued_edus("y");
  BOOST_REQUIRE_EQUAL(edus.size(), 1u);
  BOOST_TEST(json::get_string(edus[0], "edu_type") == "m.device_list_update");
  const auto& first = edus[0]["content"];
  BOOST_TEST(json::get_string(first, "user_id") == kAlice);
  BOOST_TEST(json::get_string(first, "device_id") == "PHONE");
  BOOST_TEST(json::get_string(first, "device_display_name") == "Alice's phone");
  BOOST_TEST(json::get_int(first, "stream_id") == 1);
  BOOST_TEST(first["prev_id"].Empty());
  BOOST_TEST(json::get_string(first["keys"], "device_id") == "PHONE");
  {
    auto txn = w.db.read();
    BOOST_TEST(announced_stream_id(*txn, kAlice) == 1u);
  }
  // Nothing changed: nothing announced.
  w.announce(kAlice);
  BOOST_TEST(w.queued_edus("y").size() == 1u);
  // The device goes; cross-signing keys come.
  w.db.write([&](storage::WriteTxn& txn) {
    if (auto s = accounts::delete_device(txn, kAlice, "PHONE"); !s.ok()) return s;
    if (auto s = e2ee::delete_device_keys(txn, kAlice, "PHONE"); !s.ok()) return s;
    return e2ee::put_cross_signing_key(
        txn, kAlice, "master", R"({"user_id":"@alice:x","usage":["master"],"keys":{"ed25519:M":"M"}})");
  });
  w.announce(kAlice);
  edus = w.queued_edus("y");
  BOOST_REQUIRE_EQUAL(edus.size(), 3u);
  const auto& deleted = edus[1]["content"];
  BOOST_TEST(json::get_string(edus[1], "edu_type") == "m.device_list_update");
  BOOST_TEST(json::get_bool(deleted, "deleted"));
  BOOST_TEST(json::get_int(deleted, "stream_id") == 2);
  BOOST_REQUIRE_EQUAL(deleted["prev_id"].Size(), 1u);
  BOOST_TEST(deleted["prev_id"][0].GetInt64() == 1);
  BOOST_TEST(json::get_string(edus[2], "edu_type") == "m.signing_key_update");
  BOOST_TEST(edus[2]["content"]["master_key"]["keys"].HasMember("ed25519:M"));
  // Nobody to tell on another server: nothing queued for them.
  BOOST_TEST(w.queued_edus("z").empty());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::federation
