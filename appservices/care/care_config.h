// haven-care's settings (care.yaml) and its application service registration file for haven.
// Loaded once at start-up on the main thread; read-only afterwards.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace haven::care {

struct CareConfig {
  std::string bind_address = "127.0.0.1";
  int port = 8090;
  std::string public_url;      // base of guest link URLs; default http://<bind>:<port>
  std::string data_dir;        // haven-care's own LMDB environment
  std::string homeserver_url;  // where haven's Client-Server and admin APIs answer
  std::string server_name;     // haven's server name (guest user ids)
  std::string registration_file;
  std::string guest_page_dir;  // the built guest page; default: web/ beside the executable
  // Where guests' browsers reach haven (handed to the page, allowed by its CSP); default
  // homeserver_url, which may be an address only haven-care can reach.
  std::string guest_homeserver_url;
  // From the registration file:
  std::string as_token, hs_token, sender_localpart;
  // The registration lets haven-care have a device of its own (MSC2409 to-device, MSC3202):
  // it then reads encrypted temporary conversations (care_e2ee.h).
  bool own_device = false;
  std::string guest_prefix = "care_guest_";  // localpart prefix of guest users
  int64_t guest_link_lifetime_ms = 7LL * 24 * 3600 * 1000;  // R15
  int64_t guest_idle_ms = 3600 * 1000;                      // R18
  int64_t idle_check_interval_ms = 60 * 1000;
  bool fake_clock = false;  // testing.fake_clock: POST /_haven/care/v1/testing/clock
};

// Reads care.yaml (relative paths from its directory). On error: nullopt and one line in
// `error` naming the key and the problem.
std::optional<CareConfig> load_care_config(const std::string& path, std::string* error);

// A new care.yaml text, and the registration YAML for haven it refers to (fresh tokens).
struct GeneratedCareConfig {
  std::string care_yaml;
  std::string registration_yaml;
};
GeneratedCareConfig generate_care_config(const std::string& server_name,
                                         const std::string& data_dir,
                                         const std::string& homeserver_url, int port,
                                         const std::string& registration_file);

}  // namespace haven::care
