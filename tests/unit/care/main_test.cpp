// The care_test executable: unit tests of haven-care (appservices/care) and of the guest scope
// haven enforces for haven-care's guests (homeserver/client/guest_scope.cpp).
#define BOOST_TEST_MODULE care
#include <boost/test/unit_test.hpp>
