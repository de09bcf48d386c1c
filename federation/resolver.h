// Server discovery per the Server-Server API ("Resolving server names"): from a server name
// to where to connect, which name the certificate must carry, and the Host header. IP
// literals, explicit ports, /.well-known/matrix/server delegation (cached, honouring
// Cache-Control max-age within bounds; failures cached with exponential back-off), SRV
// _matrix-fed._tcp then the deprecated _matrix._tcp, port 8448 by default.
// The network is reached only through the DnsSource and WellKnownSource interfaces.
// resolve() blocks on the network: call it from an outbound thread, never from the loop.
// Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "homeserver/base/result.h"

namespace haven::federation {

constexpr int kDefaultFederationPort = 8448;

struct SrvRecord {
  uint16_t priority = 0;
  uint16_t weight = 0;
  uint16_t port = 0;
  std::string target;  // a host name, without the trailing dot
};

// DNS SRV lookups. Thread-safe implementations only.
class DnsSource {
 public:
  virtual ~DnsSource() = default;
  // The SRV records of `name` (e.g. "_matrix-fed._tcp.example.org"); empty when none.
  virtual std::vector<SrvRecord> lookup_srv(const std::string& name) = 0;
};

// GET https://<hostname>/.well-known/matrix/server, following redirects. Thread-safe
// implementations only.
struct WellKnownAnswer {
  int status = 0;  // 0: no HTTP answer (connection or TLS failure)
  std::string body;
  std::string cache_control;  // the Cache-Control header, "" when absent
};
class WellKnownSource {
 public:
  virtual ~WellKnownSource() = default;
  virtual WellKnownAnswer fetch(const std::string& hostname) = 0;
};

// Where and how to send a request to a server.
struct ResolvedServer {
  std::string tls_name;      // the name the certificate must carry (and SNI unless an IP);
                             // an IPv6 literal keeps its brackets
  std::string connect_host;  // what to connect to: a host name to look up, or an IP literal
  int port = kDefaultFederationPort;
  std::string host_header;

  friend bool operator==(const ResolvedServer&, const ResolvedServer&) = default;
};

// A server name split into host and port; nullopt when it breaks the grammar.
struct ServerNameParts {
  std::string host;  // IPv6 literals keep their brackets
  std::optional<int> port;
};
std::optional<ServerNameParts> split_server_name(std::string_view server_name);
bool is_ip_literal(std::string_view host);

class Resolver {
 public:
  // Cache bounds for /.well-known answers.
  static constexpr int64_t kDefaultCacheMs = 24LL * 3600 * 1000;
  static constexpr int64_t kMinCacheMs = 5LL * 60 * 1000;
  static constexpr int64_t kMaxCacheMs = 48LL * 3600 * 1000;
  static constexpr int64_t kFirstFailureCacheMs = 2LL * 60 * 1000;  // doubling per failure
  static constexpr int64_t kMaxFailureCacheMs = 3600LL * 1000;

  // `overrides`: server name -> "host:port" (federation.test_host_overrides).
  // `now_ms`: a monotonic clock in milliseconds.
  Resolver(DnsSource& dns, WellKnownSource& well_known,
           std::map<std::string, std::string> overrides, std::function<int64_t()> now_ms);

  // M_INVALID_PARAM when `server_name` is not a server name.
  Result<ResolvedServer> resolve(const std::string& server_name);

 private:
  // The delegated server name from .well-known, or nullopt when there is none (cached).
  std::optional<std::string> delegated_name(const std::string& hostname);
  // Asks DNS for SRV records of `hostname` (_matrix-fed._tcp, then _matrix._tcp).
  std::optional<SrvRecord> srv_for(const std::string& hostname);

  struct CacheEntry {
    int64_t expires_ms = 0;
    std::optional<std::string> delegated;  // nullopt: the lookup failed
    int failures = 0;                      // consecutive failures, for the back-off
  };
  DnsSource& dns_;
  WellKnownSource& well_known_;
  std::map<std::string, std::string> overrides_;
  std::function<int64_t()> now_ms_;
  std::mutex mu_;
  std::map<std::string, CacheEntry> well_known_cache_;
};

// Milliseconds a /.well-known answer is cached for, from its Cache-Control header: max-age
// within [kMinCacheMs, kMaxCacheMs], kDefaultCacheMs when absent; no-store/no-cache give the
// minimum.
int64_t well_known_cache_ms(const std::string& cache_control);

// The m.server of a /.well-known/matrix/server body, or nullopt when the body is not an
// object with a valid server name there.
std::optional<std::string> parse_well_known(const std::string& body);

}  // namespace haven::federation
