#include "appservices/care/haven_api.h"

#include <curl/curl.h>

#include <memory>

namespace haven::care {

namespace {

constexpr size_t kMaxAnswerBytes = 256 * 1024;
constexpr long kTimeoutSeconds = 30;

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

size_t collect(char* data, size_t size, size_t n, void* out) {
  auto* body = static_cast<std::string*>(out);
  if (body->size() + size * n > kMaxAnswerBytes) return 0;
  body->append(data, size * n);
  return size * n;
}

}  // namespace

Error HavenAnswer::error() const {
  if (status == 0) return Error::with(502, "M_UNKNOWN", "The homeserver did not answer");
  std::string errcode = json::get_string(body, "errcode", "M_UNKNOWN");
  std::string message = json::get_string(body, "error", "The homeserver refused the request");
  return Error::with(static_cast<int>(status), errcode, message);
}

std::string encode_segment(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

HavenAnswer HavenApi::as_service(const std::string& method, const std::string& path,
                                 const std::string& body,
                                 const std::optional<std::string>& as_user) const {
  std::string url = base_url_ + path;
  if (as_user) {
    url += (path.find('?') == std::string::npos ? "?" : "&");
    url += "user_id=" + encode_segment(*as_user);
  }
  return call(method, url, as_token_, body);
}

HavenAnswer HavenApi::as_user_token(const std::string& token, const std::string& method,
                                    const std::string& path, const std::string& body) const {
  return call(method, base_url_ + path, token, body);
}

Result<std::string> HavenApi::whoami(const std::string& token) const {
  auto a = as_user_token(token, "GET", "/_matrix/client/v3/account/whoami");
  if (!a.ok()) return a.error();
  std::string user_id = json::get_string(a.body, "user_id");
  if (user_id.empty()) return Error::unknown("The homeserver gave no user for this token");
  return user_id;
}

HavenAnswer HavenApi::call(const std::string& method, const std::string& url,
                           const std::string& token, const std::string& body) const {
  HavenAnswer answer;
  answer.body = json::object();
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return answer;
  curl_slist* list = curl_slist_append(nullptr, "Content-Type: application/json");
  list = curl_slist_append(list, ("Authorization: Bearer " + token).c_str());
  list = curl_slist_append(list, "User-Agent: haven-care");
  std::unique_ptr<curl_slist, SlistDeleter> headers(list);
  std::string text;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method != "GET") {
    const std::string& payload = body.empty() ? std::string("{}") : body;
    curl_easy_setopt(curl.get(), CURLOPT_COPYPOSTFIELDS, payload.c_str());
  }
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, kTimeoutSeconds);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &collect);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &text);
  if (curl_easy_perform(curl.get()) != CURLE_OK) return answer;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &answer.status);
  json::Document d = json::parse_trusted(text);
  if (d.IsObject()) answer.body = std::move(d);
  return answer;
}

}  // namespace haven::care
