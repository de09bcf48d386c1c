// The configuration model of `haven` and its loader. The only module that reads settings
// from files or the environment. Loaded once at start-up on the main thread; read-only after.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace haven::conf {

struct Listener {
  std::string bind_address = "127.0.0.1";
  int port = 0;  // 0 = disabled

  friend bool operator==(const Listener&, const Listener&) = default;
};

struct RateLimit {
  double per_second = 0;  // 0 = unlimited
  int burst = 0;

  friend bool operator==(const RateLimit&, const RateLimit&) = default;
};

// One namespace of an application service registration: a regular expression (matched from
// the start of the ID) and whether the service claims it for itself alone.
struct AppServiceNamespace {
  std::string regex;
  bool exclusive = false;

  friend bool operator==(const AppServiceNamespace&, const AppServiceNamespace&) = default;
};

// An application service registration file (the spec's Registration object), checked.
struct AppServiceRegistration {
  std::string file;  // where it was read from, for messages
  std::string id;
  std::string url;  // "" = url: null (the service wants no traffic)
  std::string as_token;
  std::string hs_token;
  std::string sender_localpart;
  std::vector<AppServiceNamespace> users;
  std::vector<AppServiceNamespace> aliases;
  std::vector<AppServiceNamespace> rooms;
  bool rate_limited = true;
  bool receive_ephemeral = false;  // also de.sorunome.msc2409.push_ephemeral
  bool msc3202 = false;            // org.matrix.msc3202: device lists and key counts
  bool msc4190 = false;            // io.element.msc4190: devices managed without /login
  // org.haven.operator: the service's sender user may use the operator (admin) APIs. For the
  // bundled haven-care, which reads features and owners and marks its guest users.
  bool operator_api = false;
  std::vector<std::string> protocols;

  friend bool operator==(const AppServiceRegistration&, const AppServiceRegistration&) = default;
};

// The care organisation's rules (homeserver/policy/).
struct Care {
  bool enabled = true;           // roles, contacts, owners and anonymity enforced
  bool guest_links = false;      // R13: operator switch, also settable by the admin API
  bool temporary_rooms = false;  // R19: operator switch, also settable by the admin API
  // Room version of conversations created while the care rules apply. Not 12: there the
  // creator's power can never be handed over, and the operator must be able to name a new owner.
  std::string room_version = "11";
  // The conversation template's power levels; the owner has 100.
  int invite = 100;
  int kick = 100;
  int ban = 100;
  int redact = 100;
  int state_default = 100;
  int events_default = 0;
  std::vector<std::string> owner_only_events = {
      "m.room.name",        "m.room.topic",       "m.room.avatar", "m.room.power_levels",
      "m.room.server_acl",  "m.call.member",      "m.call.invite", "m.room.history_visibility",
      "m.room.join_rules",  "m.room.encryption",  "m.room.tombstone",
      "m.room.canonical_alias"};

  friend bool operator==(const Care&, const Care&) = default;
};

// The Server-Server API: whom this server federates with and how it trusts them.
struct Federation {
  // Check remote servers' TLS certificates against the system's CAs. May be false only
  // together with insecure_test_servers, and then only those servers go unchecked.
  bool verify_certificates = true;
  std::vector<std::string> insecure_test_servers;
  // Servers this one federates with: exact server names, "*.example.org" (any name ending in
  // .example.org) or "*" (everyone). Empty: no other server (federation closed).
  std::vector<std::string> allowed_servers;
  // Notary servers asked for a server's keys when the server itself does not answer.
  std::vector<std::string> trusted_key_servers;
  // Testing only: "server_name=host:port" entries that replace server discovery for a name.
  std::vector<std::string> test_host_overrides;

  friend bool operator==(const Federation&, const Federation&) = default;
};

// New-message emails (homeserver/email/). Without smtp_url no email is ever sent.
struct Email {
  std::string smtp_url;       // smtp://host[:port] (STARTTLS when offered) or smtps://host[:port]
  std::string smtp_username;  // "" = no SMTP AUTH
  std::string smtp_password;
  bool require_starttls = false;  // smtp:// only: refuse to send without STARTTLS
  std::string smtp_ca_file;       // PEM CA certificates to trust; "" = the system's
  std::string from;               // the From: address
  std::string client_base_url;    // the link in every notice, e.g. https://chat.example.org/
  int idle_minutes = 10;          // no notice while the recipient was active this recently

  bool enabled() const { return !smtp_url.empty(); }
  friend bool operator==(const Email&, const Email&) = default;
};

// Switches for test harnesses only; never on in production.
struct Testing {
  bool fake_clock = false;  // POST /_haven/admin/v1/testing/clock may move the server's clock

  friend bool operator==(const Testing&, const Testing&) = default;
};

struct Config {
  std::string server_name = "localhost";
  // When true, the server name comes from the SERVER_NAME environment variable (Complement).
  bool server_name_from_env = false;
  std::string public_baseurl;  // e.g. "http://localhost:8008/"; "" = derived from client listener
  std::string data_dir = "./data";
  std::string signing_key_path;  // "" = <data_dir>/signing.key

  Listener client_listener{"127.0.0.1", 8008};
  Listener federation_listener{"127.0.0.1", 8448};  // port 0 disables federation
  std::string tls_certificate_path;  // federation TLS; empty = plain HTTP (tests only)
  std::string tls_private_key_path;

  // Storage
  uint64_t lmdb_map_size_mb = 1024;  // initial map size; grown automatically
  uint64_t lmdb_max_map_size_mb = 1048576;

  // Registration and login
  bool enable_registration = false;
  std::string registration_shared_secret;
  bool registration_requires_token = false;
  int64_t access_token_lifetime_ms = 0;  // 0 = tokens do not expire

  // Rooms
  std::string default_room_version = "12";
  bool encryption_enabled_by_default = true;

  // Media (content repository)
  uint64_t media_max_upload_size_mb = 50;
  bool media_freeze_legacy_media = true;  // new uploads are not served by unauthenticated routes
  std::string media_store_path;           // "" = <data_dir>/media

  std::string media_store_dir() const {
    return media_store_path.empty() ? data_dir + "/media" : media_store_path;
  }

  // Limits
  uint64_t max_request_body_bytes = 1 << 20;  // client API JSON bodies
  int max_json_depth = 64;
  RateLimit rc_login{0.17, 3};
  RateLimit rc_registration{0.17, 3};
  RateLimit rc_message{10, 50};

  // Logging: "debug" | "info" | "warn" | "error"
  std::string log_level = "info";

  // Worker threads for CPU-heavy work (password hashing, ...)
  int worker_threads = 2;

  Care care;
  Federation federation;

  // Application service registration files (YAML), like Synapse's app_service_config_files;
  // relative paths are taken from the config file's directory. Loaded into app_services.
  std::vector<std::string> app_service_config_files;
  std::vector<AppServiceRegistration> app_services;

  // Delayed events (MSC4140): the longest delay a client may ask for (0 turns the feature off)
  // and how many may wait at once per user.
  int64_t delayed_events_max_delay_ms = 24 * 3600 * 1000;
  int delayed_events_max_per_user = 100;

  // VoIP: TURN servers handed to clients with time-limited credentials (coturn's REST API).
  std::vector<std::string> turn_uris;
  std::string turn_shared_secret;
  int turn_user_lifetime_seconds = 86400;
  bool turn_allow_guests = true;

  // Presence: a user inactive (no request that counts as activity) this long shows offline.
  int presence_offline_after_seconds = 300;

  Email email;
  Testing testing;

  std::string signing_key_file() const {
    return signing_key_path.empty() ? data_dir + "/signing.key" : signing_key_path;
  }

  friend bool operator==(const Config&, const Config&) = default;
};

// Loads and validates a YAML config file. On error returns nullopt and sets `error` to one
// line naming the key and the problem (unknown key, wrong type, missing file, bad port).
std::optional<Config> load_config(const std::string& path, std::string* error);

// A complete, commented YAML config with every option, a fresh random
// registration_shared_secret and enable_registration: false.
std::string generate_config(const std::string& server_name, const std::string& data_dir,
                            int client_port, int federation_port);

}  // namespace haven::conf
