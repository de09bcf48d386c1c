// The state_res_test executable: unit tests of state resolution v2/v2.1 and of the state at
// every event (homeserver/rooms/state_res*, state_at_event).
#define BOOST_TEST_MODULE state_res
#include <boost/test/unit_test.hpp>
