// The policy_test executable: unit tests of homeserver/policy (the care rules and records).
#define BOOST_TEST_MODULE policy
#include <boost/test/unit_test.hpp>
