// Unit tests of homeserver/e2ee/device_keys: one-time keys handed out once, fallback keys
// after exhaustion, counts, conflicting re-uploads and deleting a device's keys.
#include "homeserver/e2ee/device_keys.h"

#include <boost/test/unit_test.hpp>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "tests/unit/support/test_store.h"

namespace haven::e2ee {
namespace {

using test::TestStore;

const std::string kUser = "@alice:example.org";
const std::string kDevice = "DEV1";

KeyEntry otk(int i) {
  return {"signed_curve25519", "K" + std::to_string(i),
          "{\"key\":\"key" + std::to_string(i) + "\"}"};
}

KeyEntry fallback(const std::string& id) {
  return {"signed_curve25519", id, "{\"fallback\":true,\"key\":\"fb" + id + "\"}"};
}

void add_keys(TestStore& db, const std::vector<KeyEntry>& keys,
              const std::string& device = kDevice) {
  db.write([&](storage::WriteTxn& txn) {
    auto s = add_one_time_keys(txn, kUser, device, keys);
    BOOST_REQUIRE(s.ok());
    return storage::Status::ok_status();
  });
}

std::optional<ClaimedKey> claim(TestStore& db, const std::string& algorithm = "signed_curve25519",
                                const std::string& device = kDevice) {
  std::optional<ClaimedKey> out;
  db.write([&](storage::WriteTxn& txn) {
    storage::Status s;
    out = claim_key(txn, kUser, device, algorithm, &s);
    return s;
  });
  return out;
}

BOOST_AUTO_TEST_CASE(counts_are_per_algorithm_and_device) {
  TestStore db;
  add_keys(db, {otk(1), otk(2), {"curve25519", "C1", "\"abc\""}});
  add_keys(db, {otk(3)}, "DEV2");
  auto txn = db.read();
  auto counts = one_time_key_counts(*txn, kUser, kDevice);
  BOOST_TEST(counts.size() == 2u);
  BOOST_TEST(counts["signed_curve25519"] == 2);
  BOOST_TEST(counts["curve25519"] == 1);
  BOOST_TEST(one_time_key_counts(*txn, kUser, "DEV2")["signed_curve25519"] == 1);
  BOOST_TEST(one_time_key_counts(*txn, kUser, "NONE").empty());
}

BOOST_AUTO_TEST_CASE(same_key_again_is_kept_different_content_is_refused) {
  TestStore db;
  add_keys(db, {otk(1)});
  add_keys(db, {otk(1)});
  Status refused;
  db.write([&](storage::WriteTxn& txn) {
    refused = add_one_time_keys(txn, kUser, kDevice,
                                {{"signed_curve25519", "K1", "{\"key\":\"other\"}"}});
    return storage::Status::ok_status();
  });
  BOOST_TEST(!refused.ok());
  BOOST_TEST(refused.error().errcode == "M_INVALID_PARAM");
  auto txn = db.read();
  BOOST_TEST(one_time_key_counts(*txn, kUser, kDevice)["signed_curve25519"] == 1);
}

BOOST_AUTO_TEST_CASE(claimed_key_is_gone_and_returned_with_its_full_id) {
  TestStore db;
  add_keys(db, {otk(1)});
  auto k = claim(db);
  BOOST_REQUIRE(k);
  BOOST_TEST(k->full_key_id == "signed_curve25519:K1");
  BOOST_TEST(k->json == "{\"key\":\"key1\"}");
  BOOST_TEST(!k->fallback);
  BOOST_TEST(!claim(db));
  auto txn = db.read();
  BOOST_TEST(one_time_key_counts(*txn, kUser, kDevice).empty());
}

BOOST_AUTO_TEST_CASE(concurrent_claims_never_hand_out_the_same_key) {
  TestStore db;
  constexpr int kKeys = 50;
  std::vector<KeyEntry> keys;
  for (int i = 0; i < kKeys; ++i) keys.push_back(otk(i));
  add_keys(db, keys);
  constexpr int kThreads = 4;
  constexpr int kClaimsPerThread = 20;  // 80 claims for 50 keys
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> handed_out;
  int done = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kClaimsPerThread; ++i) {
        auto out = std::make_shared<std::optional<ClaimedKey>>();
        db.store().submit(
            [out](storage::WriteTxn& txn) {
              storage::Status s;
              *out = claim_key(txn, kUser, kDevice, "signed_curve25519", &s);
              return s;
            },
            [&, out](storage::Status s) {
              std::lock_guard lock(mu);
              BOOST_CHECK(s.ok());
              if (*out) handed_out.push_back((*out)->full_key_id);
              ++done;
              cv.notify_all();
            });
      }
    });
  }
  for (auto& t : threads) t.join();
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return done == kThreads * kClaimsPerThread; });
  BOOST_TEST(handed_out.size() == static_cast<size_t>(kKeys));
  std::set<std::string> unique(handed_out.begin(), handed_out.end());
  BOOST_TEST(unique.size() == handed_out.size());
}

BOOST_AUTO_TEST_CASE(fallback_key_after_exhaustion_is_marked_used_not_deleted) {
  TestStore db;
  add_keys(db, {otk(1)});
  db.write([&](storage::WriteTxn& txn) {
    return put_fallback_key(txn, kUser, kDevice, fallback("F1"));
  });
  {
    auto txn = db.read();
    BOOST_TEST(unused_fallback_key_types(*txn, kUser, kDevice) ==
               std::vector<std::string>{"signed_curve25519"});
  }
  auto first = claim(db);
  BOOST_REQUIRE(first);
  BOOST_TEST(!first->fallback);
  auto second = claim(db);
  BOOST_REQUIRE(second);
  BOOST_TEST(second->fallback);
  BOOST_TEST(second->full_key_id == "signed_curve25519:F1");
  BOOST_TEST(second->json == "{\"fallback\":true,\"key\":\"fbF1\"}");
  auto third = claim(db);
  BOOST_REQUIRE(third);
  BOOST_TEST(third->full_key_id == "signed_curve25519:F1");
  auto txn = db.read();
  BOOST_TEST(unused_fallback_key_types(*txn, kUser, kDevice).empty());
  BOOST_TEST(!claim(db, "curve25519"));
}

BOOST_AUTO_TEST_CASE(reuploading_the_used_fallback_keeps_it_used_a_new_one_is_unused) {
  TestStore db;
  db.write([&](storage::WriteTxn& txn) {
    return put_fallback_key(txn, kUser, kDevice, fallback("F1"));
  });
  BOOST_REQUIRE(claim(db));
  db.write([&](storage::WriteTxn& txn) {
    return put_fallback_key(txn, kUser, kDevice, fallback("F1"));
  });
  {
    auto txn = db.read();
    BOOST_TEST(unused_fallback_key_types(*txn, kUser, kDevice).empty());
  }
  db.write([&](storage::WriteTxn& txn) {
    return put_fallback_key(txn, kUser, kDevice, fallback("F2"));
  });
  auto txn = db.read();
  BOOST_TEST(unused_fallback_key_types(*txn, kUser, kDevice).size() == 1u);
  txn.reset();
  BOOST_TEST(claim(db)->full_key_id == "signed_curve25519:F2");
}

BOOST_AUTO_TEST_CASE(deleting_a_device_removes_all_its_keys_only) {
  TestStore db;
  add_keys(db, {otk(1)});
  add_keys(db, {otk(2)}, "DEV2");
  db.write([&](storage::WriteTxn& txn) {
    if (auto s = put_device_keys(txn, kUser, kDevice, "{\"device_id\":\"DEV1\"}"); !s.ok())
      return s;
    if (auto s = put_device_keys(txn, kUser, "DEV2", "{\"device_id\":\"DEV2\"}"); !s.ok()) return s;
    return put_fallback_key(txn, kUser, kDevice, fallback("F1"));
  });
  db.write([&](storage::WriteTxn& txn) { return delete_device_keys(txn, kUser, kDevice); });
  auto txn = db.read();
  BOOST_TEST(!get_device_keys(*txn, kUser, kDevice));
  BOOST_TEST(one_time_key_counts(*txn, kUser, kDevice).empty());
  BOOST_TEST(unused_fallback_key_types(*txn, kUser, kDevice).empty());
  BOOST_TEST(get_device_keys(*txn, kUser, "DEV2").has_value());
  BOOST_TEST(one_time_key_counts(*txn, kUser, "DEV2")["signed_curve25519"] == 1);
  auto all = device_keys_of_user(*txn, kUser);
  BOOST_TEST(all.size() == 1u);
  BOOST_TEST(all[0].first == "DEV2");
}

}  // namespace
}  // namespace haven::e2ee
