#include "homeserver/register_user.h"

#include <termios.h>
#include <unistd.h>

#include <iostream>

#include <curl/curl.h>

#include "crypto/hash.h"
#include "homeserver/base/json.h"

namespace haven {

namespace {

std::string read_password(const char* prompt) {
  std::string line;
  bool tty = isatty(STDIN_FILENO);
  termios old{};
  if (tty) {
    std::cerr << prompt << std::flush;
    tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::getline(std::cin, line);
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::cerr << "\n";
  }
  return line;
}

size_t collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// One HTTP call; returns the status (0 on connection failure) and fills `response`.
long http_call(const std::string& url, const std::string* post_body, std::string* response) {
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, response);
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (post_body) curl_easy_setopt(curl, CURLOPT_POSTFIELDS, post_body->c_str());
  long status = 0;
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return status;
}

}  // namespace

int register_user_cli(const conf::Config& config, const std::string& localpart,
                      std::string password, bool admin) {
  if (config.registration_shared_secret.empty()) {
    std::cerr << "registration_shared_secret is not set in the config\n";
    return 1;
  }
  if (password.empty()) {
    password = read_password("Password: ");
    if (password != read_password("Confirm password: ")) {
      std::cerr << "Passwords do not match\n";
      return 1;
    }
  }
  if (password.empty()) {
    std::cerr << "Password cannot be empty\n";
    return 1;
  }
  std::string host = config.client_listener.bind_address;
  if (host == "0.0.0.0") host = "127.0.0.1";
  std::string url = "http://" + host + ":" + std::to_string(config.client_listener.port) +
                    "/_synapse/admin/v1/register";
  std::string response;
  if (http_call(url, nullptr, &response) != 200) {
    std::cerr << "Cannot reach the server at " << url << " (is `haven serve` running?)\n";
    return 1;
  }
  std::string nonce = json::get_string(json::parse_trusted(response), "nonce");
  std::string mac_input = nonce + '\0' + localpart + '\0' + password + '\0' +
                          (admin ? "admin" : "notadmin");
  auto body = json::object();
  auto& a = body.GetAllocator();
  json::set(body, "nonce", nonce, a);
  json::set(body, "username", localpart, a);
  json::set(body, "password", password, a);
  json::set(body, "admin", admin, a);
  json::set(body, "mac",
            crypto::to_hex(crypto::hmac_sha1(config.registration_shared_secret, mac_input)), a);
  std::string text = json::to_string(body);
  response.clear();
  long status = http_call(url, &text, &response);
  auto reply = json::parse_trusted(response);
  if (status != 200) {
    std::cerr << "Registration failed: " << json::get_string(reply, "error", response) << "\n";
    return 1;
  }
  std::cout << "Registered " << json::get_string(reply, "user_id") << "\n";
  return 0;
}

}  // namespace haven
