// The rooms_test executable: unit tests of the room core (homeserver/rooms).
#define BOOST_TEST_MODULE rooms
#include <boost/test/unit_test.hpp>
