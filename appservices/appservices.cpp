#include "appservices/appservices.h"

#include "appservices/device_lists.h"

#include <spdlog/spdlog.h>

#include "homeserver/accounts/account_store.h"
#include "homeserver/base/write.h"

namespace haven::appservice {

namespace {
constexpr size_t kEventsPerFeed = 500;
}

AppServices::AppServices(const conf::Config& config, storage::Store& store)
    : store_(store), registry_(config.app_services, config.server_name) {}

AppServices::~AppServices() { stop(); }

Status AppServices::start() {
  if (registry_.empty()) return {};
  auto s = store_.run([this](storage::WriteTxn& txn) {
    for (const auto& service : registry_.all()) {
      if (accounts::get_user(txn, service->sender())) continue;
      accounts::User user;
      user.user_id = service->sender();
      user.displayname = service->registration().sender_localpart;
      user.creation_ts = now_ms();
      if (auto r = accounts::put_user(txn, user); !r.ok()) return r;
    }
    if (auto r = init_cursors(txn, registry_); !r.ok()) return storage::Status::io_error(r.error().message);
    if (auto r = init_device_list_cursors(txn, registry_); !r.ok()) {
      return storage::Status::io_error(r.error().message);
    }
    return storage::Status::ok_status();
  });
  if (!s.ok()) return Error::unknown("appservices: " + s.message());
  // To-device messages that reached the services' users while haven was not running.
  std::vector<std::string> users;
  if (auto txn = store_.begin_read()) users = users_of_ephemeral_services(*txn, registry_);
  if (!users.empty()) {
    s = store_.run([this, &users](storage::WriteTxn& txn) {
      auto r = feed_to_device(txn, registry_, users);
      return r.ok() ? storage::Status::ok_status() : storage::Status::io_error(r.error().message);
    });
    if (!s.ok()) return Error::unknown("appservices: " + s.message());
  }
  for (const auto& service : registry_.all()) {
    if (service->registration().url.empty()) {
      senders_.push_back(nullptr);
      continue;
    }
    senders_.push_back(std::make_unique<Sender>(store_, *service));
    spdlog::info("appservice {}: sending transactions to {}", service->id(),
                 service->registration().url);
  }
  return {};
}

void AppServices::stop() {
  for (auto& sender : senders_) {
    if (sender) sender->stop();
  }
}

void AppServices::wake_all() {
  for (auto& sender : senders_) {
    if (sender) sender->wake();
  }
}

void AppServices::events_appended() {
  if (registry_.empty()) return;
  if (feeding_) {
    feed_again_ = true;
    return;
  }
  run_feed();
}

void AppServices::run_feed() {
  feeding_ = true;
  feed_again_ = false;
  write<bool>(
      store_,
      [this](storage::WriteTxn& txn) -> Result<bool> {
        auto more = feed_events(txn, registry_, kEventsPerFeed);
        if (!more.ok()) return more;
        // Joins and leaves among the events change device lists too.
        HAVEN_TRY(feed_device_lists(txn, registry_));
        return more;
      },
      [this](Result<bool> more) {
        feeding_ = false;
        wake_all();
        if (!more.ok()) {
          spdlog::error("appservices: queueing events failed: {}", more.error().message);
          return;
        }
        if (*more || feed_again_) run_feed();
      });
}

void AppServices::to_device_stored(const std::set<std::string>& recipients) {
  if (registry_.empty()) return;
  std::vector<std::string> users;
  for (const std::string& user : recipients) {
    for (const auto& s : registry_.all()) {
      if (s->registration().receive_ephemeral && s->is_interested_in_user(user)) {
        users.push_back(user);
        break;
      }
    }
  }
  if (users.empty()) return;
  write<bool>(
      store_,
      [this, users](storage::WriteTxn& txn) -> Result<bool> {
        HAVEN_TRY(feed_to_device(txn, registry_, users));
        return true;
      },
      [this](Result<bool> r) {
        if (!r.ok()) spdlog::error("appservices: queueing to-device failed: {}", r.error().message);
        wake_all();
      });
}

void AppServices::ephemeral(Ephemeral e) {
  bool anyone = false;
  for (const auto& s : registry_.all()) anyone = anyone || s->registration().receive_ephemeral;
  if (!anyone) return;
  write<bool>(
      store_,
      [this, e = std::move(e)](storage::WriteTxn& txn) -> Result<bool> {
        HAVEN_TRY(feed_ephemeral(txn, registry_, e));
        return true;
      },
      [this](Result<bool> r) {
        if (!r.ok()) spdlog::error("appservices: queueing ephemeral failed: {}", r.error().message);
        wake_all();
      });
}

void AppServices::reachable(const std::string& service_id) {
  for (size_t i = 0; i < senders_.size(); ++i) {
    if (senders_[i] && registry_.all()[i]->id() == service_id) senders_[i]->reachable();
  }
}

}  // namespace haven::appservice
