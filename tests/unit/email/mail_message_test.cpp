// The mails: headers, CRLF endings, what a notice says (and what it cannot say), addresses.
#include "homeserver/email/mail_message.h"

#include <boost/test/unit_test.hpp>

namespace haven::email {

BOOST_AUTO_TEST_SUITE(mail_message)

BOOST_AUTO_TEST_CASE(date_is_rfc5322_utc) {
  BOOST_TEST(rfc5322_date(0) == "Thu, 01 Jan 1970 00:00:00 +0000");
  BOOST_TEST(rfc5322_date(1'751'371'200'000) == "Tue, 01 Jul 2025 12:00:00 +0000");
}

BOOST_AUTO_TEST_CASE(message_has_the_headers_and_crlf_lines) {
  MailEnvelope e{"noreply@example.org", "ann@example.org", "Subject line", 0, "abc@example.org"};
  std::string m = compose_message(e, "line one\nline two");
  BOOST_TEST(
      m.starts_with("From: noreply@example.org\r\nTo: ann@example.org\r\n"
                    "Subject: Subject line\r\nDate: Thu, 01 Jan 1970 00:00:00 +0000\r\n"
                    "Message-ID: <abc@example.org>\r\nMIME-Version: 1.0\r\n"
                    "Content-Type: text/plain; charset=utf-8\r\n"));
  BOOST_TEST(m.ends_with("\r\n\r\nline one\r\nline two\r\n"));
  // No bare LF anywhere.
  for (size_t i = 0; i < m.size(); ++i) {
    if (m[i] == '\n') BOOST_TEST((i > 0 && m[i - 1] == '\r'));
  }
}

BOOST_AUTO_TEST_CASE(header_values_cannot_add_headers) {
  MailEnvelope e{"a@b", "c@d", "Hi\r\nBcc: x@y", 0, "id@b"};
  std::string m = compose_message(e, "");
  BOOST_TEST(m.find("\r\nBcc:") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(notice_counts_conversations_and_links_the_client) {
  std::string one = notice_body(1, "https://chat.example.org/");
  BOOST_TEST(one.find("1 conversation.") != std::string::npos);
  BOOST_TEST(one.find("1 gesprek.") != std::string::npos);
  BOOST_TEST(one.find("https://chat.example.org/") != std::string::npos);
  std::string three = notice_body(3, "https://chat.example.org/");
  BOOST_TEST(three.find("3 conversations.") != std::string::npos);
  BOOST_TEST(three.find("3 gesprekken.") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(addresses_are_checked) {
  BOOST_TEST(is_valid_address("ann@example.org"));
  BOOST_TEST(is_valid_address("a.b+c@sub.example.org"));
  for (const char* bad : {"", "ann", "@example.org", "ann@", "a@b@c", "ann @example.org",
                          "ann@example.org\r\nBcc: x@y", "<ann@example.org>", "a,b@c", "a\"b@c"}) {
    BOOST_TEST(!is_valid_address(bad), bad);
  }
  BOOST_TEST(!is_valid_address(std::string(250, 'a') + "@b.cd"));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::email
