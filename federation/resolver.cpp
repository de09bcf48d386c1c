#include "federation/resolver.h"

#include <arpa/inet.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace haven::federation {
namespace {

constexpr size_t kMaxWellKnownCacheEntries = 10'000;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_dns_name(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
  });
}

std::optional<int> parse_port(std::string_view text) {
  int port = 0;
  if (text.empty() || text.size() > 5) return std::nullopt;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (ec != std::errc() || ptr != text.data() + text.size() || port < 1 || port > 65535) {
    return std::nullopt;
  }
  return port;
}

// The best SRV record: lowest priority, then highest weight. (RFC 2782's weighted random
// choice among equal priorities is left out: one target, chosen the same way every time.)
std::optional<SrvRecord> best(std::vector<SrvRecord> records) {
  std::erase_if(records, [](const SrvRecord& r) {
    return r.target.empty() || r.target == "." || r.port == 0 || !is_dns_name(r.target);
  });
  if (records.empty()) return std::nullopt;
  return *std::min_element(records.begin(), records.end(), [](const auto& a, const auto& b) {
    return a.priority != b.priority ? a.priority < b.priority : a.weight > b.weight;
  });
}

}  // namespace

bool is_ip_literal(std::string_view host) {
  unsigned char buf[16];
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    const std::string inner(host.substr(1, host.size() - 2));
    return inet_pton(AF_INET6, inner.c_str(), buf) == 1;
  }
  return inet_pton(AF_INET, std::string(host).c_str(), buf) == 1;
}

std::optional<ServerNameParts> split_server_name(std::string_view name) {
  ServerNameParts out;
  std::string_view port;
  if (!name.empty() && name.front() == '[') {
    const size_t close = name.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = std::string(name.substr(0, close + 1));
    if (!is_ip_literal(out.host)) return std::nullopt;
    std::string_view rest = name.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port = rest.substr(1);
      if (port.empty()) return std::nullopt;
    }
  } else {
    const size_t colon = name.find(':');
    out.host = std::string(name.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = name.substr(colon + 1);
      if (port.empty()) return std::nullopt;
    }
    if (!is_dns_name(out.host)) return std::nullopt;
  }
  if (!port.empty()) {
    out.port = parse_port(port);
    if (!out.port) return std::nullopt;
  }
  return out;
}

int64_t well_known_cache_ms(const std::string& cache_control) {
  const std::string value = lower(cache_control);
  if (value.find("no-store") != std::string::npos || value.find("no-cache") != std::string::npos) {
    return Resolver::kMinCacheMs;
  }
  const size_t at = value.find("max-age=");
  if (at == std::string::npos) return Resolver::kDefaultCacheMs;
  const char* begin = value.data() + at + 8;
  const char* end = value.data() + value.size();
  int64_t seconds = 0;
  auto [ptr, ec] = std::from_chars(begin, end, seconds);
  if (ptr == begin) return Resolver::kDefaultCacheMs;
  if (ec == std::errc::result_out_of_range || seconds > Resolver::kMaxCacheMs / 1000) {
    return Resolver::kMaxCacheMs;
  }
  return std::clamp(seconds * 1000, Resolver::kMinCacheMs, Resolver::kMaxCacheMs);
}

std::optional<std::string> parse_well_known(const std::string& body) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (d.HasParseError() || !d.IsObject()) return std::nullopt;
  auto it = d.FindMember("m.server");
  if (it == d.MemberEnd() || !it->value.IsString()) return std::nullopt;
  std::string name(it->value.GetString(), it->value.GetStringLength());
  if (!split_server_name(name)) return std::nullopt;
  return name;
}

Resolver::Resolver(DnsSource& dns, WellKnownSource& well_known,
                   std::map<std::string, std::string> overrides, std::function<int64_t()> now_ms)
    : dns_(dns),
      well_known_(well_known),
      overrides_(std::move(overrides)),
      now_ms_(std::move(now_ms)) {}

std::optional<std::string> Resolver::delegated_name(const std::string& hostname) {
  const int64_t now = now_ms_();
  int failures = 0;
  {
    std::lock_guard lock(mu_);
    auto it = well_known_cache_.find(hostname);
    if (it != well_known_cache_.end()) {
      if (it->second.expires_ms > now) return it->second.delegated;
      failures = it->second.failures;
    }
  }
  const WellKnownAnswer answer = well_known_.fetch(hostname);
  CacheEntry entry;
  if (answer.status == 200) entry.delegated = parse_well_known(answer.body);
  if (entry.delegated) {
    entry.expires_ms = now + well_known_cache_ms(answer.cache_control);
  } else {
    entry.failures = std::min(failures + 1, 16);
    entry.expires_ms =
        now + std::min(kFirstFailureCacheMs << (entry.failures - 1), kMaxFailureCacheMs);
  }
  std::lock_guard lock(mu_);
  if (well_known_cache_.size() >= kMaxWellKnownCacheEntries) {
    std::erase_if(well_known_cache_, [now](const auto& e) { return e.second.expires_ms <= now; });
    if (well_known_cache_.size() >= kMaxWellKnownCacheEntries) well_known_cache_.clear();
  }
  well_known_cache_[hostname] = entry;
  return entry.delegated;
}

std::optional<SrvRecord> Resolver::srv_for(const std::string& hostname) {
  if (auto record = best(dns_.lookup_srv("_matrix-fed._tcp." + hostname))) return record;
  return best(dns_.lookup_srv("_matrix._tcp." + hostname));
}

Result<ResolvedServer> Resolver::resolve(const std::string& server_name) {
  auto parts = split_server_name(server_name);
  if (!parts) return Error::invalid_param("Not a valid server name: " + server_name);
  const std::string& host = parts->host;

  if (auto it = overrides_.find(server_name); it != overrides_.end()) {
    const size_t colon = it->second.rfind(':');
    return ResolvedServer{host, it->second.substr(0, colon),
                          parse_port(it->second.substr(colon + 1)).value_or(0), server_name};
  }
  // Steps 1 and 2: an IP literal, or a host name with an explicit port.
  if (is_ip_literal(host) || parts->port) {
    return ResolvedServer{host, host, parts->port.value_or(kDefaultFederationPort), server_name};
  }
  // Step 3: delegation through /.well-known/matrix/server.
  if (auto delegated = delegated_name(host)) {
    auto target = split_server_name(*delegated);  // valid: checked by parse_well_known
    const std::string& dhost = target->host;
    if (is_ip_literal(dhost) || target->port) {
      return ResolvedServer{dhost, dhost, target->port.value_or(kDefaultFederationPort),
                            *delegated};
    }
    if (auto srv = srv_for(dhost)) return ResolvedServer{dhost, srv->target, srv->port, dhost};
    return ResolvedServer{dhost, dhost, kDefaultFederationPort, dhost};
  }
  // Steps 4 to 6: SRV records of the server name's host, else port 8448.
  if (auto srv = srv_for(host)) return ResolvedServer{host, srv->target, srv->port, host};
  return ResolvedServer{host, host, kDefaultFederationPort, host};
}

}  // namespace haven::federation
