// The push_test executable: unit tests of push rules, their evaluation and unread counts
// (homeserver/push).
#define BOOST_TEST_MODULE push
#include <boost/test/unit_test.hpp>
