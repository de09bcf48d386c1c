#include "homeserver/media/content_headers.h"

#include <boost/test/unit_test.hpp>

namespace haven::media {

BOOST_AUTO_TEST_SUITE(content_headers)

BOOST_AUTO_TEST_CASE(only_the_safe_list_is_inline) {
  for (const char* safe :
       {"image/png", "image/jpeg", "text/plain", "video/mp4", "audio/ogg", "application/json",
        "IMAGE/PNG", "text/plain; charset=utf-8", "image/webp ; q=1"}) {
    BOOST_TEST(is_inline_content_type(safe), safe);
  }
  for (const char* risky :
       {"text/html", "image/svg+xml", "application/javascript", "text/javascript",
        "application/xhtml+xml", "application/pdf", "application/octet-stream", "text/xml", "",
        "image/png+html", "image/pngx", "ximage/png", "text/plain/html"}) {
    BOOST_TEST(!is_inline_content_type(risky), risky);
  }
}

BOOST_AUTO_TEST_CASE(disposition_without_a_name) {
  BOOST_TEST(content_disposition("image/png", "") == "inline");
  BOOST_TEST(content_disposition("text/html", "") == "attachment");
  BOOST_TEST(content_disposition("image/svg+xml", "") == "attachment");
}

BOOST_AUTO_TEST_CASE(plain_names_stay_plain) {
  BOOST_TEST(content_disposition("text/plain", "notes.txt") == "inline; filename=notes.txt");
  BOOST_TEST(content_disposition("application/zip", "a-b_c.zip") ==
             "attachment; filename=a-b_c.zip");
}

BOOST_AUTO_TEST_CASE(hostile_names_are_percent_encoded_in_filename_star) {
  BOOST_TEST(content_disposition("text/html", "a\"; x=y") ==
             "attachment; filename*=utf-8''a%22%3B%20x%3Dy");
  BOOST_TEST(content_disposition("text/plain", "a\r\nSet-Cookie: b=c") ==
             "inline; filename*=utf-8''a%0D%0ASet-Cookie%3A%20b%3Dc");
  BOOST_TEST(content_disposition("text/plain", "../../etc/passwd") ==
             "inline; filename*=utf-8''..%2F..%2Fetc%2Fpasswd");
  // The characters that mean something inside filename*= itself are encoded too.
  BOOST_TEST(content_disposition("text/plain", "100%'*.txt") ==
             "inline; filename*=utf-8''100%25%27%2A.txt");
}

BOOST_AUTO_TEST_CASE(non_ascii_names_are_utf8_in_filename_star) {
  BOOST_TEST(content_disposition("image/png", "Grüße.png") ==
             "inline; filename*=utf-8''Gr%C3%BC%C3%9Fe.png");
  BOOST_TEST(content_disposition("application/pdf", "日本.pdf") ==
             "attachment; filename*=utf-8''%E6%97%A5%E6%9C%AC.pdf");
}

BOOST_AUTO_TEST_CASE(every_disposition_is_one_clean_header_value) {
  std::string all_bytes;
  for (int b = 1; b < 256; ++b) all_bytes += static_cast<char>(b);
  std::string value = content_disposition("text/plain", all_bytes);
  for (char c : value) {
    BOOST_TEST(((c > 0x20 && c < 0x7f) || c == ' '));
    BOOST_TEST(c != '"');
    BOOST_TEST(c != '\\');
  }
  BOOST_TEST(value.find(';', value.find(';') + 1) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(file_names_are_checked) {
  BOOST_TEST(check_filename("report.pdf").ok());
  BOOST_TEST(check_filename("Grüße 日本.txt").ok());
  BOOST_TEST(check_filename("../../etc/passwd").ok());  // harmless: never a path, only a header
  BOOST_TEST(check_filename(std::string(kMaxFilenameBytes, 'a')).ok());
  BOOST_TEST(!check_filename(std::string(kMaxFilenameBytes + 1, 'a')).ok());
  BOOST_TEST(!check_filename("a\r\nb").ok());
  BOOST_TEST(!check_filename(std::string("a\0b", 3)).ok());
  BOOST_TEST(!check_filename("tab\there").ok());
  BOOST_TEST(!check_filename("del\x7f").ok());
  BOOST_TEST(!check_filename("\xff\xfe").ok());  // not UTF-8
  BOOST_TEST(!check_filename("\xc0\xaf").ok());  // overlong '/'
  auto e = check_filename("a\nb");
  BOOST_TEST(e.error().errcode == "M_INVALID_PARAM");
  BOOST_TEST(e.error().status == 400);
}

BOOST_AUTO_TEST_CASE(upload_content_types) {
  BOOST_TEST(upload_content_type(std::nullopt).value() == "application/octet-stream");
  BOOST_TEST(upload_content_type(std::string()).value() == "application/octet-stream");
  BOOST_TEST(upload_content_type(std::string("image/png")).value() == "image/png");
  BOOST_TEST(upload_content_type(std::string("text/plain; charset=utf-8")).value() ==
             "text/plain; charset=utf-8");
  for (const char* bad :
       {"not a type;;; <x>", "image", "/png", "image/", "image/png/x", "ima ge/png", "image/p(n)g",
        "text/plain\r\nX: y", "a/b\x01", "\xc3\xa4/b"}) {
    auto r = upload_content_type(std::string(bad));
    BOOST_TEST(!r.ok(), bad);
    if (!r.ok()) BOOST_TEST(r.error().errcode == "M_INVALID_PARAM");
  }
  BOOST_TEST(upload_content_type("a/" + std::string(kMaxContentTypeBytes - 2, 'b')).ok());
  BOOST_TEST(!upload_content_type("a/" + std::string(kMaxContentTypeBytes - 1, 'b')).ok());
}

BOOST_AUTO_TEST_CASE(essence_drops_parameters_and_case) {
  BOOST_TEST(content_type_essence("Image/PNG; x=y") == "image/png");
  BOOST_TEST(content_type_essence("text/plain ;charset=utf-8") == "text/plain");
  BOOST_TEST(content_type_essence("") == "");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::media
