// The http_test executable: unit tests of the HTTP plumbing (homeserver/http): request heads and
// body framing, the chunked decoder, spooled upload bodies.
#define BOOST_TEST_MODULE http
#include <boost/test/unit_test.hpp>
