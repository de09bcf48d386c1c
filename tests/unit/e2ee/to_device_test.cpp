// Unit tests of homeserver/e2ee/to_device: storing sends (fan-out, unknown recipients, limits,
// idempotent transactions), reading a device's inbox in order and in bounded batches, and
// deleting acknowledged messages and whole inboxes.
#include "homeserver/e2ee/to_device.h"

#include <boost/test/unit_test.hpp>

#include "homeserver/accounts/account_store.h"
#include "homeserver/base/json.h"
#include "homeserver/e2ee/device_lists.h"
#include "tests/unit/support/test_store.h"

namespace haven::e2ee {
namespace {

using test::TestStore;

void add_device(TestStore& db, const std::string& user_id, const std::string& device_id) {
  db.write([&](storage::WriteTxn& txn) {
    accounts::Device d;
    d.user_id = user_id;
    d.device_id = device_id;
    return accounts::put_device(txn, d);
  });
}

ToDeviceSend make_send(const std::string& txn_id, std::vector<ToDeviceTarget> targets,
                       const std::string& type = "m.test") {
  return ToDeviceSend{"@a:x", "ADEV", type, txn_id, std::move(targets)};
}

// Runs store_to_device in its own job, rolled back on an error as the server's jobs are.
Result<ToDeviceStored> send_now(TestStore& db, const ToDeviceSend& send, size_t max = 100) {
  std::optional<Result<ToDeviceStored>> out;
  auto s = db.store().run([&](storage::WriteTxn& txn) {
    out.emplace(store_to_device(txn, send, max));
    return out->ok() ? storage::Status::ok_status() : storage::Status::aborted("error");
  });
  BOOST_REQUIRE(out.has_value());
  if (out->ok()) BOOST_REQUIRE(s.ok());
  return std::move(*out);
}

// The "n" of each message content in the device's inbox after `since`.
std::vector<int64_t> inbox_numbers(TestStore& db, const std::string& user_id,
                                   const std::string& device_id, uint64_t since = 0) {
  auto txn = db.read();
  std::vector<int64_t> out;
  for (const std::string& text : to_device_inbox(*txn, user_id, device_id, since, 1000).events) {
    auto d = json::parse_trusted(text);
    BOOST_REQUIRE(d.IsObject() && d.HasMember("content"));
    out.push_back(json::get_int(d["content"], "n", -1));
  }
  return out;
}

std::string content(int n) { return "{\"n\":" + std::to_string(n) + "}"; }

BOOST_AUTO_TEST_CASE(messages_reach_named_devices_in_order_as_events) {
  TestStore db;
  add_device(db, "@b:x", "D1");
  add_device(db, "@b:x", "D2");
  auto first = send_now(db, make_send("t1", {{"@b:x", "D1", content(1)}}));
  BOOST_REQUIRE(first.ok());
  BOOST_TEST(!first->duplicate);
  BOOST_TEST(first->messages == 1u);
  BOOST_TEST((first->recipients == std::set<std::string>{"@b:x"}));
  BOOST_REQUIRE(send_now(db, make_send("t2", {{"@b:x", "D1", content(2)}})).ok());
  BOOST_TEST((inbox_numbers(db, "@b:x", "D1") == std::vector<int64_t>{1, 2}));
  BOOST_TEST(inbox_numbers(db, "@b:x", "D2").empty());
  auto txn = db.read();
  auto inbox = to_device_inbox(*txn, "@b:x", "D1", 0, 100);
  auto event = json::parse_trusted(inbox.events.at(0));
  BOOST_TEST(json::get_string(event, "sender") == "@a:x");
  BOOST_TEST(json::get_string(event, "type") == "m.test");
  BOOST_TEST(event.MemberCount() == 3u);
  BOOST_TEST(inbox.next_pos == to_device_pos(*txn));
  BOOST_TEST(to_device_pos(*txn) == 2u);
}

BOOST_AUTO_TEST_CASE(unknown_users_and_devices_are_skipped) {
  TestStore db;
  add_device(db, "@b:x", "D1");
  auto r = send_now(db, make_send("t", {{"@b:x", "NOPE", content(1)},
                                        {"@nobody:x", "*", content(2)},
                                        {"@nobody:x", "D1", content(3)}}));
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->messages == 0u);
  BOOST_TEST(r->recipients.empty());
  BOOST_TEST(inbox_numbers(db, "@b:x", "D1").empty());
  auto txn = db.read();
  BOOST_TEST(to_device_pos(*txn) == 0u);  // nothing stored: no new stream position
}

BOOST_AUTO_TEST_CASE(star_reaches_every_device_once_and_explicit_content_wins) {
  TestStore db;
  add_device(db, "@b:x", "D1");
  add_device(db, "@b:x", "D2");
  add_device(db, "@b:x", "D3");
  auto r = send_now(db, make_send("t", {{"@b:x", "*", content(7)}, {"@b:x", "D2", content(9)}}));
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->messages == 3u);
  BOOST_TEST((inbox_numbers(db, "@b:x", "D1") == std::vector<int64_t>{7}));
  BOOST_TEST((inbox_numbers(db, "@b:x", "D2") == std::vector<int64_t>{9}));
  BOOST_TEST((inbox_numbers(db, "@b:x", "D3") == std::vector<int64_t>{7}));
}

BOOST_AUTO_TEST_CASE(a_repeated_transaction_stores_nothing) {
  TestStore db;
  add_device(db, "@b:x", "D1");
  BOOST_REQUIRE(send_now(db, make_send("t", {{"@b:x", "D1", content(1)}})).ok());
  auto again = send_now(db, make_send("t", {{"@b:x", "D1", content(2)}}));
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(again->duplicate);
  BOOST_TEST(again->recipients.empty());
  BOOST_TEST((inbox_numbers(db, "@b:x", "D1") == std::vector<int64_t>{1}));
  // The same id with another event type (another endpoint path) is another transaction.
  BOOST_TEST(!send_now(db, make_send("t", {{"@b:x", "D1", content(3)}}, "m.other"))->duplicate);
  // And so is the same id from another device of the sender.
  auto other = make_send("t", {{"@b:x", "D1", content(4)}});
  other.sender_device = "ADEV2";
  BOOST_TEST(!send_now(db, other)->duplicate);
  BOOST_TEST((inbox_numbers(db, "@b:x", "D1") == std::vector<int64_t>{1, 3, 4}));
}

BOOST_AUTO_TEST_CASE(a_fan_out_above_the_limit_is_refused_whole) {
  TestStore db;
  add_device(db, "@b:x", "D1");
  add_device(db, "@b:x", "D2");
  add_device(db, "@b:x", "D3");
  auto r = send_now(db, make_send("t", {{"@b:x", "*", content(1)}}), 2);
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().errcode == "M_TOO_LARGE");
  BOOST_TEST(r.error().status == 413);
  BOOST_TEST(inbox_numbers(db, "@b:x", "D1").empty());
  // Rolled back with the job, the transaction id too: a retry within the limit goes through.
  BOOST_TEST(send_now(db, make_send("t", {{"@b:x", "*", content(1)}}), 3)->messages == 3u);
}

BOOST_AUTO_TEST_CASE(a_long_inbox_comes_in_batches_that_acknowledge_exactly_what_they_hold) {
  TestStore db;
  add_device(db, "@b:x", "D1");
  add_device(db, "@c:x", "C1");
  for (int i = 1; i <= 5; ++i) {
    BOOST_REQUIRE(
        send_now(db, make_send("t" + std::to_string(i), {{"@b:x", "D1", content(i)}})).ok());
    // Messages to others interleave in the stream.
    BOOST_REQUIRE(
        send_now(db, make_send("c" + std::to_string(i), {{"@c:x", "C1", content(0)}})).ok());
  }
  auto txn = db.read();
  auto batch1 = to_device_inbox(*txn, "@b:x", "D1", 0, 2);
  BOOST_TEST(batch1.events.size() == 2u);
  BOOST_TEST(batch1.limited);
  BOOST_TEST(batch1.next_pos == 3u);  // the position of message 2
  auto batch2 = to_device_inbox(*txn, "@b:x", "D1", batch1.next_pos, 2);
  BOOST_TEST(batch2.events.size() == 2u);
  BOOST_TEST(batch2.limited);
  auto batch3 = to_device_inbox(*txn, "@b:x", "D1", batch2.next_pos, 2);
  BOOST_TEST(batch3.events.size() == 1u);
  BOOST_TEST(!batch3.limited);
  BOOST_TEST(batch3.next_pos == to_device_pos(*txn));
  BOOST_TEST(to_device_inbox(*txn, "@b:x", "D1", batch3.next_pos, 2).events.empty());
  txn.reset();
  BOOST_TEST((inbox_numbers(db, "@b:x", "D1", batch1.next_pos) == std::vector<int64_t>{3, 4, 5}));
}

BOOST_AUTO_TEST_CASE(acknowledged_messages_are_deleted_and_later_ones_kept) {
  TestStore db;
  add_device(db, "@b:x", "D1");
  for (int i = 1; i <= 3; ++i) {
    BOOST_REQUIRE(
        send_now(db, make_send("t" + std::to_string(i), {{"@b:x", "D1", content(i)}})).ok());
  }
  {
    auto txn = db.read();
    BOOST_TEST(!has_acknowledged_to_device(*txn, "@b:x", "D1", 0));
    BOOST_TEST(has_acknowledged_to_device(*txn, "@b:x", "D1", 2));
    BOOST_TEST(!has_acknowledged_to_device(*txn, "@b:x", "OTHER", 3));
  }
  db.write(
      [](storage::WriteTxn& txn) { return delete_acknowledged_to_device(txn, "@b:x", "D1", 2); });
  BOOST_TEST((inbox_numbers(db, "@b:x", "D1") == std::vector<int64_t>{3}));
  auto txn = db.read();
  BOOST_TEST(!has_acknowledged_to_device(*txn, "@b:x", "D1", 2));
}

BOOST_AUTO_TEST_CASE(a_since_beyond_the_stream_is_taken_as_the_stream_position) {
  TestStore db;
  add_device(db, "@b:x", "D1");
  BOOST_REQUIRE(send_now(db, make_send("t1", {{"@b:x", "D1", content(1)}})).ok());
  auto txn = db.read();
  auto inbox = to_device_inbox(*txn, "@b:x", "D1", UINT64_MAX, 100);
  BOOST_TEST(inbox.events.empty());
  BOOST_TEST(inbox.next_pos == 1u);
}

BOOST_AUTO_TEST_CASE(a_forgotten_device_loses_its_inbox_and_transaction_ids) {
  TestStore db;
  add_device(db, "@b:x", "D1");
  add_device(db, "@b:x", "D2");
  BOOST_REQUIRE(send_now(db, make_send("t", {{"@b:x", "*", content(1)}})).ok());
  ToDeviceSend from_b{"@b:x", "D1", "m.test", "u", {{"@b:x", "D2", content(2)}}};
  BOOST_REQUIRE(send_now(db, from_b).ok());
  db.write([](storage::WriteTxn& txn) { return forget_device_keys(txn, "@b:x", "D1"); });
  BOOST_TEST(inbox_numbers(db, "@b:x", "D1").empty());
  BOOST_TEST((inbox_numbers(db, "@b:x", "D2") == std::vector<int64_t>{1, 2}));
  // A device created again with the same id starts afresh: its old transaction ids are gone.
  BOOST_TEST(!send_now(db, from_b)->duplicate);
}

}  // namespace
}  // namespace haven::e2ee
