// The delayed_test executable: unit tests of homeserver/delayed (delayed event records).
#define BOOST_TEST_MODULE delayed
#include <boost/test/unit_test.hpp>
