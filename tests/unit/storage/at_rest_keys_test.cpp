// Tests of storage/at_rest_keys.cpp and storage/sealed.cpp through the LMDB store: per-scope
// at-rest keys live in the key file (never in data.mdb), survive a restart, and once destroyed
// leave neither their bytes on disk nor a way to open what was sealed with them.
#include "storage/at_rest_keys.h"

#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "storage/sealed.h"
#include "tests/unit/storage/test_util.h"

namespace haven::storage {
namespace {

using test::open_store;
using test::small_options;
using test::TempDir;

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string key_file(const TempDir& dir) { return dir.path() + "/at-rest-keys"; }

// Creates the key of `scope` and seals `plaintext` under (scope, record); returns the sealed
// value and a copy of the key's bytes.
std::pair<std::string, std::string> seal_one(Store& store, std::string_view scope,
                                             std::string_view record, std::string_view text) {
  std::string sealed, key_bytes;
  auto s = store.run([&](WriteTxn& txn) {
    Status status;
    auto value = seal(txn, scope, record, text, &status);
    if (!value) return status;
    sealed = *value;
    key_bytes = std::string(txn.at_rest_key(scope)->bytes());
    return txn.put(Table::kEvents, record, sealed);
  });
  BOOST_REQUIRE_MESSAGE(s.ok(), s.message());
  return {sealed, key_bytes};
}

std::optional<std::string> open_one(Store& store, std::string_view scope, std::string_view record) {
  auto txn = store.begin_read();
  BOOST_REQUIRE(txn);
  auto value = txn->get(Table::kEvents, record);
  BOOST_REQUIRE(value);
  return open_sealed(*txn, scope, record, *value);
}

BOOST_AUTO_TEST_SUITE(at_rest_keys)

BOOST_AUTO_TEST_CASE(sealed_values_open_again_after_a_restart_and_hold_no_plaintext) {
  TempDir dir;
  std::string key_bytes;
  {
    auto store = open_store(small_options(dir));
    auto [sealed, key] = seal_one(*store, "!room:x", "$event", "the plaintext body");
    key_bytes = key;
    BOOST_TEST(sealed.find("plaintext") == std::string::npos);
    BOOST_TEST(*open_one(*store, "!room:x", "$event") == "the plaintext body");
    store->close();
  }
  auto store = open_store(small_options(dir));
  BOOST_TEST(open_one(*store, "!room:x", "$event").value_or("?") == "the plaintext body");
  // The key is in the key file, with mode 0600, and nowhere in the LMDB file.
  BOOST_TEST(file_bytes(dir.path() + "/data.mdb").find(key_bytes) == std::string::npos);
  BOOST_TEST(file_bytes(key_file(dir)).find(key_bytes) != std::string::npos);
  struct stat st {};
  BOOST_REQUIRE(::stat(key_file(dir).c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u);
}

BOOST_AUTO_TEST_CASE(a_sealed_value_opens_only_under_its_own_scope_and_record) {
  TempDir dir;
  auto store = open_store(small_options(dir));
  seal_one(*store, "!a:x", "$one", "text of a");
  seal_one(*store, "!b:x", "$two", "text of b");
  BOOST_TEST(!open_one(*store, "!b:x", "$one"));  // another room's key
  auto txn = store->begin_read();
  auto value = std::string(*txn->get(Table::kEvents, "$one"));
  BOOST_TEST(!open_sealed(*txn, "!a:x", "$two", value));        // moved to another record
  BOOST_TEST(!open_sealed(*txn, "!unknown:x", "$one", value));  // a scope without a key
  value.back() ^= 1;
  BOOST_TEST(!open_sealed(*txn, "!a:x", "$one", value));  // altered
}

BOOST_AUTO_TEST_CASE(a_destroyed_key_is_gone_from_every_file_and_its_values_stay_shut) {
  TempDir dir;
  std::string key_bytes;
  {
    auto store = open_store(small_options(dir));
    key_bytes = seal_one(*store, "!doomed:x", "$d", "doomed text").second;
    seal_one(*store, "!kept:x", "$k", "kept text");
    auto s = store->run([](WriteTxn& txn) { return txn.destroy_at_rest_key("!doomed:x"); });
    BOOST_REQUIRE(s.ok());
    BOOST_TEST(!open_one(*store, "!doomed:x", "$d"));
    auto txn = store->begin_read();
    BOOST_TEST(!txn->at_rest_key("!doomed:x"));
    txn.reset();
    store->close();
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    BOOST_TEST(file_bytes(entry.path().string()).find(key_bytes) == std::string::npos,
               entry.path());
  }
  auto store = open_store(small_options(dir));
  BOOST_TEST(!open_one(*store, "!doomed:x", "$d"));
  BOOST_TEST(open_one(*store, "!kept:x", "$k").value_or("?") == "kept text");
  // Destroying again, or a scope that never had a key, is fine.
  BOOST_TEST(store->run([](WriteTxn& txn) { return txn.destroy_at_rest_key("!doomed:x"); }).ok());
  BOOST_TEST(store->run([](WriteTxn& txn) { return txn.destroy_at_rest_key("!never:x"); }).ok());
}

BOOST_AUTO_TEST_CASE(a_destroyed_slot_is_reused_with_a_fresh_key) {
  TempDir dir;
  auto store = open_store(small_options(dir));
  std::string first = seal_one(*store, "!one:x", "$1", "one").second;
  BOOST_REQUIRE(store->run([](WriteTxn& txn) { return txn.destroy_at_rest_key("!one:x"); }).ok());
  std::string second = seal_one(*store, "!two:x", "$2", "two").second;
  BOOST_TEST(first != second);
  // One slot of 32 bytes was used for both.
  BOOST_TEST(std::filesystem::file_size(key_file(dir)) <= 2 * kAtRestKeyBytes);
  BOOST_TEST(!open_one(*store, "!one:x", "$1"));
  BOOST_TEST(open_one(*store, "!two:x", "$2").value_or("?") == "two");
}

BOOST_AUTO_TEST_CASE(a_key_made_by_a_rolled_back_job_names_no_slot) {
  TempDir dir;
  auto store = open_store(small_options(dir));
  auto s = store->run([](WriteTxn& txn) {
    Status status;
    BOOST_TEST(txn.at_rest_key_for_write("!gone:x", &status) != nullptr);
    return Status::aborted("rolled back");
  });
  BOOST_TEST(!s.ok());
  auto txn = store->begin_read();
  BOOST_TEST(!txn->at_rest_key("!gone:x"));
  BOOST_TEST(!txn->get(Table::kAtRestKeys, "!gone:x"));
  txn.reset();
  // The next key is written into the same slot and works.
  seal_one(*store, "!next:x", "$n", "next");
  BOOST_TEST(open_one(*store, "!next:x", "$n").value_or("?") == "next");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace haven::storage

namespace haven::storage {
namespace {

using test::get;
using test::open_store;
using test::put;
using test::small_options;
using test::TempDir;

BOOST_AUTO_TEST_SUITE(compaction)

// What the start-up migration relies on after sealing rows that were plain: LMDB leaves the
// old bytes in freed pages, and the compacting copy drops them.
BOOST_AUTO_TEST_CASE(compacting_drops_the_bytes_of_deleted_rows_and_keeps_the_rest) {
  TempDir dir;
  const std::string gone = "deleted-row-text-" + std::string(200, 'g');
  {
    auto store = open_store(small_options(dir));
    BOOST_REQUIRE(put(*store, Table::kEvents, "gone", gone).ok());
    BOOST_REQUIRE(put(*store, Table::kEvents, "kept", "kept value").ok());
    BOOST_REQUIRE(store->run([](WriteTxn& txn) { return txn.del(Table::kEvents, "gone"); }).ok());
    store->close();
  }
  const std::string data = dir.path() + "/data.mdb";
  BOOST_REQUIRE(file_bytes(data).find(gone) != std::string::npos);
  BOOST_REQUIRE(LmdbStore::compact(dir.path()).ok());
  BOOST_TEST(file_bytes(data).find(gone) == std::string::npos);
  BOOST_TEST(!std::filesystem::exists(dir.path() + "/compact.tmp"));
  auto store = open_store(small_options(dir));
  BOOST_TEST(get(*store, Table::kEvents, "kept").value_or("?") == "kept value");
  BOOST_TEST(!get(*store, Table::kEvents, "gone"));
  BOOST_TEST(put(*store, Table::kEvents, "new", "after compaction").ok());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace haven::storage
