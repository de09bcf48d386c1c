// The federation outbox's delivery (federation/outbox.cpp): one transaction in flight per
// destination, retries under the same transaction id after a backoff on the server's clock
// (moved here as the testing.fake_clock endpoint moves it), and nothing for servers that are
// not allowed. The destination is a recording transport; the store is a real LMDB store whose
// completions run on the loop, as in the server.
#include "federation/outbox.h"

#include <stdlib.h>

#include <boost/test/unit_test.hpp>
#include <deque>
#include <filesystem>

#include "homeserver/base/json.h"

namespace haven::federation {
namespace {

struct Sent {
  OutboundRequest request;
  FederationClient::Done done;
};

// A loop, a store on it, an outbox whose transport records what it is asked to send.
class Fixture {
 public:
  Fixture() : allowed_({"*.test"}) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "haven-outbox-XXXXXX").string();
    BOOST_REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    dir_ = tmpl;
    storage::StoreOptions options;
    options.path = dir_;
    options.initial_map_size = 1 << 20;
    std::string error;
    store_ = storage::open_lmdb_store(
        options, [this](std::function<void()> fn) { loop_.post(std::move(fn)); }, &error);
    BOOST_REQUIRE(store_);
    outbox_ = std::make_unique<Outbox>(
        loop_, *store_, "a.test", allowed_,
        [this](OutboundRequest r, FederationClient::Done d) {
          sent_.push_back({std::move(r), std::move(d)});
        });
  }
  ~Fixture() {
    outbox_.reset();
    store_->close();
    std::filesystem::remove_all(dir_);
  }

  // Runs the loop until `done()` holds (checked every few ms; fails after 10 s).
  void run_until(const std::function<bool()>& done) {
    bool ok = false;
    std::unique_ptr<Loop::Timer> tick;
    std::function<void()> check = [&] {
      if (done()) {
        ok = true;
        loop_.stop();
      } else {
        tick = loop_.after(2, check);
      }
    };
    auto give_up = loop_.after(10'000, [&] { loop_.stop(); });
    tick = loop_.after(0, check);
    loop_.run();
    BOOST_REQUIRE_MESSAGE(ok, "timed out");
  }
  // Lets the loop run for a while (for things that must NOT happen).
  void run_for(int64_t ms) {
    auto stop = loop_.after(ms, [&] { loop_.stop(); });
    loop_.run();
  }
  void advance(int64_t ms) {
    advance_clock(ms);
    loop_.clock_advanced();
  }
  void send_edus(const std::string& destination, int from, int count) {
    for (int i = from; i < from + count; ++i) {
      outbox_->send_edu({destination}, "m.test", "{\"n\":" + std::to_string(i) + "}");
    }
  }
  static std::vector<int64_t> edu_numbers(const Sent& s) {
    auto body = json::parse_trusted(*s.request.json_body);
    std::vector<int64_t> out;
    for (const auto& e : body["edus"].GetArray()) out.push_back(e["content"]["n"].GetInt64());
    return out;
  }
  static void answer(Sent& s, int status) { s.done(OutboundResponse{status, "{}"}); }
  static void unreachable(Sent& s) { s.done(Error::with(502, "M_UNKNOWN", "refused")); }
  size_t queued_edus(const std::string& destination) {
    auto txn = store_->begin_read();
    return peek_edus(*txn, destination, 1000).size();
  }

  Loop loop_;
  ServerAllowList allowed_;
  std::string dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Outbox> outbox_;
  std::deque<Sent> sent_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(outbox)

BOOST_AUTO_TEST_CASE(the_backoff_doubles_from_two_seconds_up_to_ten_minutes) {
  BOOST_TEST(Outbox::backoff_ms(1) == 2'000);
  BOOST_TEST(Outbox::backoff_ms(2) == 4'000);
  BOOST_TEST(Outbox::backoff_ms(3) == 8'000);
  BOOST_TEST(Outbox::backoff_ms(9) == 512'000);
  BOOST_TEST(Outbox::backoff_ms(10) == 600'000);
  BOOST_TEST(Outbox::backoff_ms(1000) == 600'000);
}

BOOST_AUTO_TEST_CASE(a_transaction_is_a_signed_put_to_the_send_endpoint) {
  Fixture f;
  f.send_edus("b.test", 0, 1);
  f.run_until([&] { return f.sent_.size() == 1; });
  const OutboundRequest& r = f.sent_[0].request;
  BOOST_TEST(r.destination == "b.test");
  BOOST_TEST(r.method == "PUT");
  BOOST_TEST(r.sign);
  BOOST_TEST(r.target.rfind("/_matrix/federation/v1/send/", 0) == 0);
  auto body = json::parse_trusted(*r.json_body);
  BOOST_TEST(json::get_string(body, "origin") == "a.test");
  BOOST_TEST(body["origin_server_ts"].IsInt64());
  BOOST_TEST(body["pdus"].IsArray());
  BOOST_TEST(json::get_string(body["edus"][0], "edu_type") == "m.test");
  Fixture::answer(f.sent_[0], 200);
  f.run_until([&] { return f.queued_edus("b.test") == 0 && !f.outbox_->busy("b.test"); });
}

BOOST_AUTO_TEST_CASE(one_transaction_in_flight_per_destination_in_queue_order) {
  Fixture f;
  f.send_edus("b.test", 0, 1);
  f.run_until([&] { return f.sent_.size() == 1; });
  f.send_edus("b.test", 1, 120);  // queued while the first transaction is unanswered
  f.send_edus("c.test", 0, 1);    // another destination is not held up
  f.run_until([&] { return f.sent_.size() == 2; });
  BOOST_TEST(f.sent_[1].request.destination == "c.test");
  f.run_for(50);
  BOOST_TEST(f.sent_.size() == 2u);
  Fixture::answer(f.sent_[0], 200);
  f.run_until([&] { return f.sent_.size() == 3; });
  std::vector<int64_t> second = Fixture::edu_numbers(f.sent_[2]);
  BOOST_REQUIRE_EQUAL(second.size(), 100u);  // the spec's limit
  BOOST_TEST(second.front() == 1);
  BOOST_TEST(second.back() == 100);
  Fixture::answer(f.sent_[2], 200);
  f.run_until([&] { return f.sent_.size() == 4; });
  std::vector<int64_t> third = Fixture::edu_numbers(f.sent_[3]);
  BOOST_REQUIRE_EQUAL(third.size(), 20u);
  BOOST_TEST(third.front() == 101);
  BOOST_TEST(f.sent_[3].request.target != f.sent_[2].request.target);
}

BOOST_AUTO_TEST_CASE(a_failed_transaction_is_retried_unchanged_after_the_backoff) {
  Fixture f;
  f.send_edus("b.test", 0, 2);
  f.run_until([&] { return f.sent_.size() == 1; });
  std::string target = f.sent_[0].request.target;
  std::vector<int64_t> items = Fixture::edu_numbers(f.sent_[0]);
  Fixture::unreachable(f.sent_[0]);
  f.send_edus("b.test", 2, 1);
  f.run_until([&] { return f.outbox_->failures("b.test") == 1; });
  f.run_for(50);
  BOOST_TEST(f.sent_.size() == 1u);  // waits out the backoff
  f.advance(Outbox::backoff_ms(1) - 500);
  f.run_for(50);
  BOOST_TEST(f.sent_.size() == 1u);
  f.advance(600);
  f.run_until([&] { return f.sent_.size() == 2; });
  BOOST_TEST(f.sent_[1].request.target == target);
  BOOST_TEST((Fixture::edu_numbers(f.sent_[1]) == items));
  // An error status is a failure too; the wait doubles.
  Fixture::answer(f.sent_[1], 500);
  f.run_until([&] { return f.outbox_->failures("b.test") == 2; });
  f.advance(Outbox::backoff_ms(1) + 100);
  f.run_for(50);
  BOOST_TEST(f.sent_.size() == 2u);
  f.advance(Outbox::backoff_ms(2));
  f.run_until([&] { return f.sent_.size() == 3; });
  BOOST_TEST(f.sent_[2].request.target == target);
  Fixture::answer(f.sent_[2], 200);
  f.run_until([&] { return f.sent_.size() == 4; });
  BOOST_TEST((Fixture::edu_numbers(f.sent_[3]) == std::vector<int64_t>{2}));
  BOOST_TEST(f.outbox_->failures("b.test") == 0);
}

BOOST_AUTO_TEST_CASE(a_server_heard_from_is_retried_at_once) {
  Fixture f;
  f.send_edus("b.test", 0, 1);
  f.run_until([&] { return f.sent_.size() == 1; });
  std::string target = f.sent_[0].request.target;
  Fixture::unreachable(f.sent_[0]);
  f.run_until([&] { return f.outbox_->failures("b.test") == 1; });
  f.outbox_->server_up("b.test");
  f.run_until([&] { return f.sent_.size() == 2; });
  BOOST_TEST(f.sent_[1].request.target == target);
}

BOOST_AUTO_TEST_CASE(nothing_goes_to_servers_not_allowed_nor_to_this_server) {
  Fixture f;
  f.send_edus("evil.example", 0, 1);
  f.send_edus("a.test", 0, 1);
  f.send_edus("b.test", 0, 1);
  f.run_until([&] { return f.sent_.size() == 1; });
  f.run_for(50);
  BOOST_TEST(f.sent_.size() == 1u);
  BOOST_TEST(f.sent_[0].request.destination == "b.test");
  BOOST_TEST(f.queued_edus("evil.example") == 0u);
}

BOOST_AUTO_TEST_CASE(a_queue_left_before_a_restart_is_delivered_by_wake) {
  Fixture f;
  f.send_edus("b.test", 0, 3);
  f.run_until([&] { return f.sent_.size() == 1; });
  std::string target = f.sent_[0].request.target;
  // A new outbox over the same store: what a restarted server has.
  f.sent_.clear();
  f.outbox_ = std::make_unique<Outbox>(f.loop_, *f.store_, "a.test", f.allowed_,
                                       [&f](OutboundRequest r, FederationClient::Done d) {
                                         f.sent_.push_back({std::move(r), std::move(d)});
                                       });
  f.outbox_->wake();
  f.run_until([&] { return f.sent_.size() == 1; });
  BOOST_TEST(f.sent_[0].request.target == target);
  BOOST_TEST((Fixture::edu_numbers(f.sent_[0]) == std::vector<int64_t>{0, 1, 2}));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::federation
