// Test support for unit tests that need storage: a real LMDB store in a fresh temporary
// directory, done-callbacks run inline. Test code (the store's writer thread aside).
#pragma once

#include <stdlib.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "storage/store.h"

namespace haven::test {

class TestStore {
 public:
  // `post` delivers done-callbacks (inline by default; a test with a Loop posts to it).
  explicit TestStore(storage::Store::Post post = [](std::function<void()> fn) { fn(); }) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "haven-unit-XXXXXX").string();
    BOOST_REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    dir_ = tmpl;
    storage::StoreOptions options;
    options.path = dir_;
    options.initial_map_size = 1 << 20;
    options.max_map_size = 64 << 20;
    std::string error;
    store_ = storage::open_lmdb_store(options, std::move(post), &error);
    BOOST_REQUIRE_MESSAGE(store_, "open failed: " << error);
  }
  ~TestStore() {
    store_->close();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  TestStore(const TestStore&) = delete;
  TestStore& operator=(const TestStore&) = delete;

  storage::Store& store() { return *store_; }
  std::unique_ptr<storage::ReadTxn> read() {
    auto txn = store_->begin_read();
    BOOST_REQUIRE(txn);
    return txn;
  }
  // Runs `fn` in a write job and waits until it is durable; fails the test on an error.
  void write(const std::function<storage::Status(storage::WriteTxn&)>& fn) {
    auto s = store_->run(fn);
    BOOST_REQUIRE_MESSAGE(s.ok(), "write failed: " << s.message());
  }

 private:
  std::string dir_;
  std::unique_ptr<storage::Store> store_;
};

}  // namespace haven::test
