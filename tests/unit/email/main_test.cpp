// The email_test executable: unit tests of new-message emails (homeserver/email): settings,
// scheduling rules, message texts and the stored outbox.
#define BOOST_TEST_MODULE email
#include <boost/test/unit_test.hpp>
