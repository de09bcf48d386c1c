// haven-care: the bundled care application service (guest links, R13-R18). Talks to haven only
// through its HTTP APIs. `haven-care serve -c care.yaml`; `haven-care generate-config ...`
// writes a care.yaml and the registration file haven lists under app_service_config_files.
#include <csignal>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>
#include <curl/curl.h>
#include <event2/event.h>
#include <spdlog/spdlog.h>

#include "appservices/care/care_app.h"
#include "homeserver/http/server.h"
#include "storage/store.h"

namespace {

using namespace haven;

int serve(const std::string& config_path) {
  std::string error;
  auto config = care::load_care_config(config_path, &error);
  if (!config) {
    std::cerr << error << "\n";
    return 1;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  Loop loop;
  storage::StoreOptions options;
  options.path = config->data_dir;
  options.initial_map_size = 64ull << 20;
  auto store = storage::open_lmdb_store(
      options, [&loop](std::function<void()> fn) { loop.post(std::move(fn)); }, &error);
  if (!store) {
    std::cerr << "data_dir: " << error << "\n";
    return 1;
  }
  care::GuestPageFiles page_files(config->guest_page_dir, config->guest_homeserver_url);
  if (auto checked = page_files.check(); !checked.ok()) {
    std::cerr << "guest_page.dir: " << checked.error().message << "\n";
    return 1;
  }
  care::Clock clock(config->fake_clock);
  care::HavenApi haven_api(config->homeserver_url, config->as_token);
  care::GuestStore guest_store(*store);
  care::GuestService guests(*config, clock, haven_api, guest_store);
  care::TemporaryStore temporary_store(*store);
  care::TemporaryService temporary(*config, clock, haven_api, temporary_store);
  care::CallStore call_store(*store);
  care::CallService calls(clock, haven_api, call_store, temporary_store, temporary);
  care::E2eeStore e2ee_store(*store);
  std::unique_ptr<care::CareE2ee> e2ee;
  if (config->own_device) {
    e2ee = std::make_unique<care::CareE2ee>(
        *config, haven_api, e2ee_store,
        [&temporary](const std::string& room_id) { return temporary.manages(room_id); });
  } else {
    spdlog::warn("haven-care: its registration lacks receive_ephemeral or org.matrix.msc3202, "
                 "so it has no device: encrypted temporary conversations are not read (their "
                 "legacy calls are not counted, their attachments not deleted)");
  }
  http::Router router;
  int exit_code = 0;
  {
    care::CareApp app(*config, loop, clock, guests, temporary, calls, e2ee.get(), page_files);
    app.add_routes(router);
    http::Server server(loop, router, 64 * 1024);
    if (!server.listen(config->bind_address, config->port, &error)) {
      std::cerr << "listen: " << error << "\n";
      return 1;
    }
    spdlog::info("haven-care listening on {}:{}{}", config->bind_address, server.bound_port(),
                 config->fake_clock ? " (fake clock)" : "");
    app.start_idle_sweeps();
    auto on_signal = [](evutil_socket_t, short, void* arg) { static_cast<Loop*>(arg)->stop(); };
    event* sigterm = evsignal_new(loop.base(), SIGTERM, on_signal, &loop);
    event* sigint = evsignal_new(loop.base(), SIGINT, on_signal, &loop);
    event_add(sigterm, nullptr);
    event_add(sigint, nullptr);
    loop.run();
    event_free(sigterm);
    event_free(sigint);
    server.stop_accepting();
  }
  store->close();
  curl_global_cleanup();
  return exit_code;
}

int generate(const std::string& server_name, const std::string& data_dir,
             const std::string& homeserver_url, int port, const std::string& registration) {
  auto g = care::generate_care_config(server_name, data_dir, homeserver_url, port, registration);
  std::ofstream out(registration);
  out << g.registration_yaml;
  if (!out) {
    std::cerr << "cannot write " << registration << "\n";
    return 1;
  }
  std::cout << g.care_yaml;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"haven-care: the care application service for Haven (guest links)"};
  app.require_subcommand(1);
  std::string config_path = "care.yaml";
  auto* serve_cmd = app.add_subcommand("serve", "Run haven-care");
  serve_cmd->add_option("-c,--config", config_path, "care.yaml");
  std::string server_name = "localhost", data_dir = "./data-care",
              homeserver_url = "http://127.0.0.1:8008", registration = "care-registration.yaml";
  int port = 8090;
  auto* gen = app.add_subcommand("generate-config",
                                 "Print a care.yaml and write its registration file for haven");
  gen->add_option("--server-name", server_name);
  gen->add_option("--data-dir", data_dir);
  gen->add_option("--homeserver-url", homeserver_url);
  gen->add_option("--port", port);
  gen->add_option("--registration", registration, "where to write the registration YAML");
  CLI11_PARSE(app, argc, argv);
  if (*serve_cmd) return serve(config_path);
  return generate(server_name, data_dir, homeserver_url, port, registration);
}
