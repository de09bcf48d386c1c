#include "homeserver/federation_request.h"

#include <chrono>
#include <fstream>
#include <iostream>

#include "crypto/ed25519.h"
#include "federation/client.h"
#include "federation/dns_srv.h"
#include "federation/federation.h"
#include "federation/well_known_fetch.h"

namespace haven {

int federation_request_cli(const conf::Config& config, const std::string& destination,
                           const std::string& method, const std::string& target,
                           const std::optional<std::string>& json_body) {
  std::ifstream in(config.signing_key_file());
  std::string line;
  std::getline(in, line);
  auto key = crypto::SigningKey::from_file_line(line);
  if (!key) {
    std::cerr << "cannot read the signing key " << config.signing_key_file() << "\n";
    return 1;
  }
  federation::ServerAllowList allowed(config.federation.allowed_servers);
  federation::TlsPolicy tls(config.federation);
  federation::SystemDns dns;
  federation::HttpsWellKnown well_known(tls);
  federation::Resolver resolver(dns, well_known, federation::host_overrides(config.federation), [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  });
  federation::FederationClient client(nullptr, resolver, *key, config.server_name, tls, allowed);
  federation::OutboundRequest request;
  request.destination = destination;
  request.method = method;
  request.target = target;
  request.json_body = json_body;
  auto response = client.perform(request);
  if (!response.ok()) {
    std::cerr << response.error().errcode << ": " << response.error().message << "\n";
    return 1;
  }
  std::cout << response->status << "\n" << response->body << "\n";
  return 0;
}

}  // namespace haven
