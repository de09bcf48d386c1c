// The federation_test executable: unit tests of federation/ (transport and trust).
#define BOOST_TEST_MODULE federation
#include <boost/test/unit_test.hpp>
