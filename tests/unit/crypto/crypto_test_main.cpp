// The crypto unit tests: canonical JSON, base64, hashes, keys, signing, passwords, at-rest
// encryption.
#define BOOST_TEST_MODULE crypto
#include <boost/test/unit_test.hpp>
