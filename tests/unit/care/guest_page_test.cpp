#include "appservices/care/guest_page.h"

#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

using haven::care::guest_page_content_type;
using haven::care::GuestPageFiles;
using haven::care::is_safe_guest_page_file;

namespace {

struct PageDir {
  std::filesystem::path path;
  PageDir() {
    char tmpl[] = "/tmp/care-page-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~PageDir() { std::filesystem::remove_all(path); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name) << text;
  }
};

std::string read_all(GuestPageFiles::File& f) {
  std::string text(static_cast<size_t>(f.size()), '\0');
  int fd = f.release();
  auto n = pread(fd, text.data(), text.size(), 0);
  close(fd);
  BOOST_REQUIRE(n == static_cast<ssize_t>(text.size()));
  return text;
}

std::string header(const GuestPageFiles::File& f, const std::string& name) {
  for (const auto& [k, v] : f.headers) {
    if (k == name) return v;
  }
  return "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(guest_page)

BOOST_AUTO_TEST_CASE(content_types_by_extension_and_nothing_else) {
  BOOST_TEST(*guest_page_content_type("index.html") == "text/html; charset=utf-8");
  BOOST_TEST(*guest_page_content_type("guest.js") == "text/javascript; charset=utf-8");
  BOOST_TEST(*guest_page_content_type("guest.css") == "text/css; charset=utf-8");
  BOOST_TEST(*guest_page_content_type("matrix_sdk_crypto_wasm_bg.wasm") == "application/wasm");
  BOOST_TEST(!guest_page_content_type("care.yaml"));
  BOOST_TEST(!guest_page_content_type(".js"));
  BOOST_TEST(!guest_page_content_type("guest.js.map"));
  BOOST_TEST(!guest_page_content_type("html"));
}

BOOST_AUTO_TEST_CASE(only_plain_file_names_are_safe) {
  BOOST_TEST(is_safe_guest_page_file("guest.js"));
  BOOST_TEST(is_safe_guest_page_file("matrix_sdk_crypto_wasm_bg.wasm"));
  for (const char* bad : {"", ".", "..", "../care.yaml", "..%2Fx.js", "a/b.js", "a\\b.js",
                          ".hidden.js", "/etc/passwd", "a b.js"}) {
    BOOST_TEST(!is_safe_guest_page_file(bad), bad);
  }
  BOOST_TEST(!is_safe_guest_page_file(std::string_view("x\0.js", 5)));
  BOOST_TEST(!is_safe_guest_page_file(std::string(129, 'a')));
}

BOOST_AUTO_TEST_CASE(serves_the_page_with_its_policy_and_the_assets) {
  PageDir dir;
  dir.write("index.html", "<p>Ask for access</p>");
  dir.write("guest.js", "console.log(1)");
  dir.write("secret.yaml", "as_token: x");
  std::filesystem::create_directory(dir.path / "sub.js");
  GuestPageFiles files(dir.path.string(), "http://127.0.0.1:8008/");
  BOOST_TEST(files.check().ok());
  auto page = files.page();
  BOOST_REQUIRE(page.ok());
  BOOST_TEST(page->content_type() == "text/html; charset=utf-8");
  BOOST_TEST(read_all(*page) == "<p>Ask for access</p>");
  auto csp = header(*page, "Content-Security-Policy");
  BOOST_TEST(csp.find("connect-src 'self' http://127.0.0.1:8008;") != std::string::npos, csp);
  BOOST_TEST(csp.find("'wasm-unsafe-eval'") != std::string::npos);
  BOOST_TEST(csp.find("'unsafe-inline'") == std::string::npos);
  BOOST_TEST(header(*page, "Referrer-Policy") == "no-referrer");
  auto js = files.asset("guest.js");
  BOOST_REQUIRE(js.ok());
  BOOST_TEST(js->content_type() == "text/javascript; charset=utf-8");
  BOOST_TEST(read_all(*js) == "console.log(1)");
  for (const char* refused : {"secret.yaml", "missing.js", "sub.js", "../index.html", ""}) {
    auto r = files.asset(refused);
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().status == 404, refused);
  }
}

BOOST_AUTO_TEST_CASE(a_folder_without_index_fails_the_check) {
  PageDir dir;
  GuestPageFiles files((dir.path / "nothing").string(), "http://x");
  auto checked = files.check();
  BOOST_REQUIRE(!checked.ok());
  BOOST_TEST(checked.error().message.find("has no index.html") != std::string::npos);
  BOOST_TEST(files.page().error().status == 500);
}

BOOST_AUTO_TEST_SUITE_END()
