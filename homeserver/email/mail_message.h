// The emails Haven sends, as complete RFC 5322 messages (CRLF line endings, UTF-8 plain text).
// A new-message notice says only how many conversations have unread messages and where to
// read them: never a message, a sender or a room name. Pure functions; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace haven::email {

// An address fit for an envelope and a header: one '@' with text on both sides, at most 254
// bytes, no spaces, control characters or the characters that delimit addresses in headers.
bool is_valid_address(std::string_view address);

struct MailEnvelope {
  std::string from;        // is_valid_address
  std::string to;          // is_valid_address
  std::string subject;     // one line, ASCII
  int64_t date_ms = 0;     // the Date: header
  std::string message_id;  // without the angle brackets, e.g. "abc@example.org"
};

// Headers (From, To, Subject, Date, Message-ID, MIME-Version, Content-Type,
// Content-Transfer-Encoding) and the body, every line ending in CRLF.
std::string compose_message(const MailEnvelope& envelope, std::string_view body);

// RFC 5322 date-time in UTC, e.g. "Tue, 01 Jul 2025 12:00:00 +0000".
std::string rfc5322_date(int64_t ms);

// The neutral notice: the number of conversations with unread messages and the client link.
std::string notice_subject();
std::string notice_body(int64_t unread_conversations, std::string_view client_url);

// The mail that validates an address added through /account/3pid: the code and a link.
std::string validation_subject();
std::string validation_body(std::string_view token, std::string_view link);

}  // namespace haven::email
