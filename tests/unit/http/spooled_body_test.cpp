#include "homeserver/http/spooled_body.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace haven::http {

namespace {
namespace fs = std::filesystem;

struct TempDir {
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "haven-spool-XXXXXX").string();
    BOOST_REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  size_t files() const {
    auto it = fs::directory_iterator(path);
    return static_cast<size_t>(std::distance(it, fs::directory_iterator()));
  }
  std::string path;
};

std::string contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
}  // namespace

BOOST_AUTO_TEST_SUITE(spooled_body)

BOOST_AUTO_TEST_CASE(bytes_go_to_a_file_that_is_removed_with_the_body) {
  TempDir dir;
  std::string path;
  {
    auto body = SpooledBody::create(dir.path);
    BOOST_REQUIRE(body.ok());
    path = (*body)->path();
    BOOST_REQUIRE((*body)->append("abc").ok());
    evbuffer* buf = evbuffer_new();
    std::string big(100 * 1024, 'x');
    evbuffer_add(buf, big.data(), big.size());
    evbuffer_add(buf, "tail", 4);
    BOOST_REQUIRE((*body)->append_from(buf, big.size()).ok());
    BOOST_TEST(evbuffer_get_length(buf) == 4u);  // only what was asked for was taken
    evbuffer_free(buf);
    BOOST_TEST((*body)->size() == 3u + big.size());
    BOOST_TEST(contents(path) == "abc" + big);
    BOOST_TEST(dir.files() == 1u);
  }
  BOOST_TEST(dir.files() == 0u);
}

BOOST_AUTO_TEST_CASE(a_disowned_file_is_left_alone) {
  TempDir dir;
  std::string moved = dir.path + "/moved";
  {
    auto body = SpooledBody::create(dir.path);
    BOOST_REQUIRE(body.ok());
    BOOST_REQUIRE((*body)->append("kept").ok());
    BOOST_REQUIRE(::rename((*body)->path().c_str(), moved.c_str()) == 0);
    (*body)->disown();
  }
  BOOST_TEST(contents(moved) == "kept");
}

BOOST_AUTO_TEST_CASE(a_missing_directory_is_an_error) {
  auto body = SpooledBody::create("/nonexistent-haven-dir");
  BOOST_TEST(!body.ok());
}

// A server built without a spool directory (haven-care's) must not spool uploads to "/".
BOOST_AUTO_TEST_CASE(no_directory_is_an_error) {
  auto body = SpooledBody::create("");
  BOOST_TEST(!body.ok());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::http
