// The appservice_test executable: unit tests of the Application Service API side of haven
// (appservices/) and of its registration files (conf/appservice_registration).
#define BOOST_TEST_MODULE appservice
#include <boost/test/unit_test.hpp>
