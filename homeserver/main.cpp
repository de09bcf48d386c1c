// haven: command line entry point (generate-config, serve, register-user).
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "conf/config.h"
#include "homeserver/federation_request.h"
#include "homeserver/homeserver.h"
#include "homeserver/register_user.h"

namespace {

std::optional<haven::conf::Config> load_or_report(const std::string& path) {
  std::string error;
  auto config = haven::conf::load_config(path, &error);
  if (!config) std::cerr << error << "\n";
  return config;
}

spdlog::level::level_enum log_level(const std::string& name) {
  if (name == "debug") return spdlog::level::debug;
  if (name == "warn") return spdlog::level::warn;
  if (name == "error") return spdlog::level::err;
  return spdlog::level::info;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Haven: a Matrix homeserver for care organisations"};
  app.require_subcommand(1);

  auto* gen = app.add_subcommand("generate-config", "Print a complete, commented YAML config");
  std::string server_name, data_dir;
  int client_port = 8008, federation_port = 8448;
  gen->add_option("--server-name", server_name, "The server name, e.g. care.example.org")
      ->required();
  gen->add_option("--data-dir", data_dir, "Where the database and keys live")->required();
  gen->add_option("--client-port", client_port, "Client API port")->check(CLI::Range(1, 65535));
  gen->add_option("--federation-port", federation_port, "Federation port (0 disables)")
      ->check(CLI::Range(0, 65535));

  auto* serve = app.add_subcommand("serve", "Run the homeserver");
  std::string config_path;
  serve->add_option("-c,--config", config_path, "Config file")->required();

  auto* reg = app.add_subcommand("register-user",
                                 "Register a user on the running server with the shared secret");
  std::string reg_config, user, password;
  bool admin = false;
  reg->add_option("-c,--config", reg_config, "Config file")->required();
  reg->add_option("--user", user, "Localpart of the new user")->required();
  reg->add_option("--password", password, "Password (asked for when omitted)");
  reg->add_flag("--admin", admin, "Make the user a server admin");

  auto* fed = app.add_subcommand(
      "federation-request", "Send one signed request to another server, as this server");
  std::string fed_config, destination, method = "GET", target;
  std::optional<std::string> body;
  fed->add_option("-c,--config", fed_config, "Config file")->required();
  fed->add_option("--destination", destination, "Server name, e.g. care.example.org")
      ->required();
  fed->add_option("--method", method, "HTTP method")
      ->check(CLI::IsMember({"GET", "POST", "PUT", "DELETE"}));
  fed->add_option("--body", body, "JSON object to send");
  fed->add_option("target", target, "Request target, e.g. /_matrix/federation/v1/version")
      ->required();

  CLI11_PARSE(app, argc, argv);

  if (*gen) {
    std::cout << haven::conf::generate_config(server_name, data_dir, client_port,
                                              federation_port);
    return 0;
  }
  if (*serve) {
    auto config = load_or_report(config_path);
    if (!config) return 1;
    spdlog::set_level(log_level(config->log_level));
    return haven::serve(*config);
  }
  if (*fed) {
    auto config = load_or_report(fed_config);
    if (!config) return 1;
    spdlog::set_level(spdlog::level::warn);
    return haven::federation_request_cli(*config, destination, method, target, body);
  }
  auto config = load_or_report(reg_config);
  if (!config) return 1;
  return haven::register_user_cli(*config, user, password, admin);
}
