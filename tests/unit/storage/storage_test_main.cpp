// The storage unit tests: key encodings and the LMDB store.
#define BOOST_TEST_MODULE storage
#include <boost/test/unit_test.hpp>
