// The media_test executable: unit tests of the content repository (homeserver/media): media ids,
// the content-addressed blob store and its metadata, download headers, Range parsing, thumbnails.
#define BOOST_TEST_MODULE media
#include <boost/test/unit_test.hpp>
