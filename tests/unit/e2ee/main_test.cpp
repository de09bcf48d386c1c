// The e2ee_test executable: unit tests of homeserver/e2ee (the key stores and device lists).
#define BOOST_TEST_MODULE e2ee
#include <boost/test/unit_test.hpp>
