// Unit tests of homeserver/e2ee/device_lists: the stream position and key-change reporting
// for users who share a room (without rooms: only the user themself).
#include "homeserver/e2ee/device_lists.h"

#include <boost/test/unit_test.hpp>

#include "homeserver/e2ee/device_keys.h"
#include "tests/unit/support/test_store.h"

namespace haven::e2ee {
namespace {

using test::TestStore;

BOOST_AUTO_TEST_CASE(marking_advances_the_stream_and_reports_own_changes_once) {
  TestStore db;
  {
    auto txn = db.read();
    BOOST_TEST(device_lists_pos(*txn) == 0u);
  }
  db.write([](storage::WriteTxn& txn) { return mark_device_list_changed(txn, "@a:x"); });
  db.write([](storage::WriteTxn& txn) { return mark_device_list_changed(txn, "@a:x"); });
  auto txn = db.read();
  uint64_t pos = device_lists_pos(*txn);
  BOOST_TEST(pos == 2u);
  auto delta = device_lists_since(*txn, "@a:x", 0, 0);
  BOOST_TEST(delta.changed == std::vector<std::string>{"@a:x"});
  BOOST_TEST(delta.left.empty());
  BOOST_TEST(device_lists_since(*txn, "@a:x", 1, 0).changed.size() == 1u);
  BOOST_TEST(device_lists_since(*txn, "@a:x", pos, 0).changed.empty());
  // Users sharing no room with @b:x are not reported to it.
  BOOST_TEST(device_lists_since(*txn, "@b:x", 0, 0).changed.empty());
}

BOOST_AUTO_TEST_CASE(forgetting_a_device_deletes_keys_and_marks_the_list) {
  TestStore db;
  db.write([](storage::WriteTxn& txn) { return put_device_keys(txn, "@a:x", "D", "{}"); });
  db.write([](storage::WriteTxn& txn) { return forget_device_keys(txn, "@a:x", "D"); });
  auto txn = db.read();
  BOOST_TEST(!get_device_keys(*txn, "@a:x", "D"));
  BOOST_TEST(device_lists_pos(*txn) == 1u);
}

}  // namespace
}  // namespace haven::e2ee
