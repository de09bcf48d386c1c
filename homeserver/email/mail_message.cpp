#include "homeserver/email/mail_message.h"

#include <cstdio>
#include <ctime>

namespace haven::email {

namespace {

constexpr size_t kMaxAddressBytes = 254;

// LF line endings (as the texts below are written) to CRLF.
std::string crlf(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 30);
  for (char ch : text) {
    if (ch == '\r') continue;
    if (ch == '\n') out += '\r';
    out += ch;
  }
  return out;
}

// A header value: one line, whatever the caller passed.
std::string one_line(std::string_view value) {
  std::string out;
  for (char ch : value) out += (ch == '\r' || ch == '\n') ? ' ' : ch;
  return out;
}

}  // namespace

bool is_valid_address(std::string_view address) {
  if (address.empty() || address.size() > kMaxAddressBytes) return false;
  size_t at = address.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 == address.size()) return false;
  if (address.find('@', at + 1) != std::string_view::npos) return false;
  for (unsigned char ch : address) {
    if (ch <= 0x20 || ch == 0x7f || ch == '<' || ch == '>' || ch == ',' || ch == ';' || ch == '"' ||
        ch == '(' || ch == ')' || ch == '\\') {
      return false;
    }
  }
  return true;
}

std::string rfc5322_date(int64_t ms) {
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%s, %02d %s %04d %02d:%02d:%02d +0000",
                kDays[utc.tm_wday % 7], utc.tm_mday, kMonths[utc.tm_mon % 12], utc.tm_year + 1900,
                utc.tm_hour, utc.tm_min, utc.tm_sec);
  return buffer;
}

std::string compose_message(const MailEnvelope& envelope, std::string_view body) {
  std::string out;
  out += "From: " + one_line(envelope.from) + "\r\n";
  out += "To: " + one_line(envelope.to) + "\r\n";
  out += "Subject: " + one_line(envelope.subject) + "\r\n";
  out += "Date: " + rfc5322_date(envelope.date_ms) + "\r\n";
  out += "Message-ID: <" + one_line(envelope.message_id) + ">\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: text/plain; charset=utf-8\r\n";
  out += "Content-Transfer-Encoding: 8bit\r\n";
  out += "\r\n";
  std::string text = crlf(body);
  out += text;
  if (!text.ends_with("\r\n")) out += "\r\n";
  return out;
}

std::string notice_subject() { return "Unread messages / Ongelezen berichten"; }

std::string notice_body(int64_t unread_conversations, std::string_view client_url) {
  std::string n = std::to_string(unread_conversations);
  bool one = unread_conversations == 1;
  std::string url(client_url);
  return "You have unread messages in " + n + (one ? " conversation" : " conversations") +
         ".\nOpen " + url + " to read them.\n\n" + "Je hebt ongelezen berichten in " + n +
         (one ? " gesprek" : " gesprekken") + ".\nOpen " + url + " om ze te lezen.\n\n" +
         "--\n"
         "You get this email because email notices are on for your account; you can change\n"
         "how often they come in the settings of your chat app.\n"
         "Je krijgt deze e-mail omdat e-mailmeldingen voor je account aan staan; in de\n"
         "instellingen van je chat-app kies je hoe vaak ze komen.\n";
}

std::string validation_subject() { return "Confirm your email address / Bevestig je e-mailadres"; }

std::string validation_body(std::string_view token, std::string_view link) {
  std::string t(token), l(link);
  return "Someone asked to add this email address to a chat account.\n"
         "To confirm, open this link:\n" +
         l + "\nor enter this code in the app: " + t +
         "\n\n"
         "Iemand wil dit e-mailadres aan een chat-account toevoegen.\n"
         "Bevestig dit door deze link te openen:\n" +
         l + "\nof voer deze code in de app in: " + t +
         "\n\n"
         "If you did not ask for this, ignore this email.\n"
         "Heb je hier niet om gevraagd, negeer deze e-mail dan.\n";
}

}  // namespace haven::email
