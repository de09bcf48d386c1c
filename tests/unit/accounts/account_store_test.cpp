// The email index of the user records: kept in step by put_user, case-insensitive, and built
// once for records stored before it existed.
#define BOOST_TEST_MODULE accounts
#include <boost/test/unit_test.hpp>

#include "homeserver/accounts/account_store.h"
#include "tests/unit/support/test_store.h"

namespace haven::accounts {
namespace {
using Owners = std::vector<std::string>;

void put(test::TestStore& ts, const std::string& user_id, const std::string& email) {
  ts.write([&](storage::WriteTxn& txn) {
    User u = get_user(txn, user_id).value_or(User{});
    u.user_id = user_id;
    u.email = email;
    return put_user(txn, u);
  });
}
}  // namespace

BOOST_AUTO_TEST_CASE(put_user_keeps_the_email_index_in_step) {
  test::TestStore ts;
  put(ts, "@a:x", "Ann@Example.org");
  BOOST_TEST(users_with_email(*ts.read(), "ann@example.org") == Owners{"@a:x"});
  BOOST_TEST(users_with_email(*ts.read(), "ANN@EXAMPLE.ORG") == Owners{"@a:x"});
  put(ts, "@b:x", "ann@example.org");  // the operator may give two accounts one address
  BOOST_TEST(users_with_email(*ts.read(), "ann@example.org") == (Owners{"@a:x", "@b:x"}));
  put(ts, "@a:x", "new@example.org");
  BOOST_TEST(users_with_email(*ts.read(), "ann@example.org") == Owners{"@b:x"});
  BOOST_TEST(users_with_email(*ts.read(), "new@example.org") == Owners{"@a:x"});
  put(ts, "@b:x", "");
  BOOST_TEST(users_with_email(*ts.read(), "ann@example.org").empty());
  // A prefix of an address is not the address.
  BOOST_TEST(users_with_email(*ts.read(), "new@example.or").empty());
}

BOOST_AUTO_TEST_CASE(index_is_built_once_for_older_records) {
  test::TestStore ts;
  ts.write([](storage::WriteTxn& txn) {
    return txn.put(storage::Table::kUsers, "@old:x",
                   R"({"user_id":"@old:x","email":"old@example.org"})");
  });
  BOOST_TEST(users_with_email(*ts.read(), "old@example.org").empty());
  ts.write(build_email_index_once);
  BOOST_TEST(users_with_email(*ts.read(), "old@example.org") == Owners{"@old:x"});
  put(ts, "@old:x", "");
  ts.write(build_email_index_once);  // done already: does not bring the old address back
  BOOST_TEST(users_with_email(*ts.read(), "old@example.org").empty());
}

}  // namespace haven::accounts
