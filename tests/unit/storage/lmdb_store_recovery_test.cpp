// Tests of storage/lmdb_store.cpp under pressure: the map growing, the map full at its maximum,
// and acknowledged writes surviving the process being killed.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <cstdlib>
#include <semaphore>
#include <set>
#include <string>

#include "storage/keys.h"
#include "storage/lmdb_store.h"
#include "tests/unit/storage/test_util.h"

namespace haven::storage {
namespace {

using test::DoneLog;
using test::get;
using test::open_store;
using test::PostThread;
using test::TempDir;
using test::WriterGate;

std::string key_of(uint64_t i) { return KeyBuilder().u64(i).take(); }

std::string value_of(uint64_t i, size_t size) {
  std::string v = std::to_string(i) + ":";
  v.resize(size, static_cast<char>('a' + i % 26));
  return v;
}

StoreOptions tiny_map(const TempDir& dir, uint64_t max) {
  StoreOptions options;
  options.path = dir.path();
  options.initial_map_size = 64 << 10;
  options.max_map_size = max;
  return options;
}

BOOST_AUTO_TEST_SUITE(lmdb_store_recovery)

BOOST_AUTO_TEST_CASE(map_grows_when_full_and_every_job_succeeds) {
  TempDir dir;
  auto options = tiny_map(dir, 64 << 20);
  constexpr size_t kJobs = 1000, kValueSize = 1000;  // ~1 MB of values into a 64 KiB map
  uint64_t grown = 0;
  DoneLog log;
  {
    PostThread loop;
    auto store = open_store(options, loop.post());
    BOOST_TEST(store->map_size() == options.initial_map_size);
    for (size_t i = 0; i < kJobs; ++i) {
      store->submit(
          [i](WriteTxn& t) { return t.put(Table::kEvents, key_of(i), value_of(i, kValueSize)); },
          log.slot(i));
    }
    log.wait_for(kJobs);
    grown = store->map_size();
    store->close();
  }
  for (size_t i = 0; i < kJobs; ++i) {
    BOOST_TEST_REQUIRE(log.at(i).size() == 1u);
    BOOST_TEST_REQUIRE(log.at(i)[0].ok(), "job " << i << ": " << log.at(i)[0].message());
  }
  BOOST_TEST(grown >= uint64_t{kJobs * kValueSize});
  BOOST_TEST(grown <= options.max_map_size);
  auto store = open_store(options);
  BOOST_TEST(store->map_size() == grown);  // the grown size is kept, not shrunk to the initial
  for (size_t i = 0; i < kJobs; ++i) {
    BOOST_TEST_REQUIRE(get(*store, Table::kEvents, key_of(i)).value_or("") ==
                       value_of(i, kValueSize));
  }
}

BOOST_AUTO_TEST_CASE(map_full_at_its_maximum_reports_full_and_keeps_earlier_data) {
  TempDir dir;
  auto options = tiny_map(dir, 256 << 10);
  constexpr size_t kValueSize = 2000;
  uint64_t stored = 0;
  {
    auto store = open_store(options);
    Status last;
    for (uint64_t i = 0; i < 1000; ++i) {
      last = store->run(
          [i](WriteTxn& t) { return t.put(Table::kEvents, key_of(i), value_of(i, kValueSize)); });
      if (!last.ok()) break;
      ++stored;
    }
    BOOST_TEST_REQUIRE(last.is_full(), "got: " << last.message());
    BOOST_TEST(last.message().find("maximum size") != std::string::npos);
    BOOST_TEST(stored > 10u);
    BOOST_TEST(store->map_size() == options.max_map_size);
    // Still full on the next try, and still readable.
    Status again = store->run([&](WriteTxn& t) {
      return t.put(Table::kEvents, key_of(stored), value_of(stored, kValueSize));
    });
    BOOST_TEST(again.is_full());
    BOOST_TEST(get(*store, Table::kEvents, key_of(0)).value_or("") == value_of(0, kValueSize));
  }
  auto store = open_store(options);
  for (uint64_t i = 0; i < stored; ++i) {
    BOOST_TEST_REQUIRE(get(*store, Table::kEvents, key_of(i)).value_or("") ==
                       value_of(i, kValueSize));
  }
  BOOST_TEST(!get(*store, Table::kEvents, key_of(stored)).has_value());
}

BOOST_AUTO_TEST_CASE(job_too_big_for_the_map_fails_alone_in_its_batch) {
  TempDir dir;
  auto options = tiny_map(dir, 256 << 10);
  PostThread loop;
  auto store = open_store(options, loop.post());
  DoneLog log;
  {
    WriterGate gate(*store);
    store->submit([](WriteTxn& t) { return t.put(Table::kUsers, "before", "small"); }, log.slot(0));
    store->submit(
        [](WriteTxn& t) { return t.put(Table::kUsers, "huge", std::string(1 << 20, 'x')); },
        log.slot(1));
    store->submit([](WriteTxn& t) { return t.put(Table::kUsers, "after", "small"); }, log.slot(2));
    gate.release();
    log.wait_for(3);
  }
  BOOST_TEST(log.at(0).at(0).ok());
  BOOST_TEST(log.at(1).at(0).is_full());
  BOOST_TEST(log.at(2).at(0).ok());
  BOOST_TEST(get(*store, Table::kUsers, "before").has_value());
  BOOST_TEST(!get(*store, Table::kUsers, "huge").has_value());
  BOOST_TEST(get(*store, Table::kUsers, "after").has_value());
}

// Runs in the forked child: writes numbered records forever, printing each number to `fd` once
// its done() has fired. Never returns.
[[noreturn]] void write_and_acknowledge_until_killed(const std::string& path, int fd) {
  StoreOptions options;
  options.path = path;
  options.initial_map_size = 1 << 20;
  std::string error;
  auto store = LmdbStore::open(options, {}, &error);  // done runs on the writer thread
  if (!store) _exit(3);
  std::counting_semaphore<64> in_flight(64);
  for (uint64_t i = 1;; ++i) {
    in_flight.acquire();
    store->submit(
        [i](WriteTxn& t) { return t.put(Table::kEvents, key_of(i), value_of(i, 100)); },
        [i, fd, &in_flight](Status s) {
          if (s.ok()) {
            std::string line = std::to_string(i) + "\n";
            if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
              _exit(4);
            }
          }
          in_flight.release();
        });
  }
}

BOOST_AUTO_TEST_CASE(acknowledged_writes_survive_kill_9) {
  TempDir dir;
  int fds[2];
  BOOST_REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    write_and_acknowledge_until_killed(dir.path(), fds[1]);
  }
  close(fds[1]);
  FILE* acks = fdopen(fds[0], "r");
  BOOST_REQUIRE(acks);
  std::set<uint64_t> acknowledged;
  unsigned long long n = 0;
  bool killed = false;
  while (fscanf(acks, "%llu", &n) == 1) {
    acknowledged.insert(n);
    // Kill while writes are still streaming; acknowledgements already in the pipe still count.
    if (!killed && acknowledged.size() >= 500) {
      kill(pid, SIGKILL);
      killed = true;
    }
  }
  fclose(acks);
  int wstatus = 0;
  BOOST_REQUIRE(waitpid(pid, &wstatus, 0) == pid);
  BOOST_REQUIRE_MESSAGE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL,
                        "the writer exited on its own with status " << wstatus);
  BOOST_TEST_REQUIRE(acknowledged.size() >= 500u);

  StoreOptions options;
  options.path = dir.path();
  auto store = open_store(options);
  size_t missing = 0;
  for (uint64_t i : acknowledged) {
    if (get(*store, Table::kEvents, key_of(i)).value_or("") != value_of(i, 100)) ++missing;
  }
  BOOST_TEST(missing == 0u,
             missing << " of " << acknowledged.size() << " acknowledged writes lost");
  BOOST_TEST_MESSAGE(acknowledged.size() << " writes acknowledged before the kill");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace haven::storage
