// The sync_test executable: unit tests of homeserver/sync (filters and the streams).
#define BOOST_TEST_MODULE sync
#include <boost/test/unit_test.hpp>
