// The Application Service API inside haven: the registrations, one Sender per service that
// has a url, and the feeding of their outboxes when events, to-device messages or ephemeral
// events arrive. Constructed and start()ed on the main thread before the loop runs; the
// notifications (events_appended, ...) are for the loop thread.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "appservices/feeder.h"
#include "appservices/registry.h"
#include "appservices/sender.h"
#include "conf/config.h"
#include "homeserver/base/loop.h"
#include "storage/store.h"

namespace haven::appservice {

class AppServices {
 public:
  AppServices(const conf::Config& config, storage::Store& store);
  ~AppServices();

  const Registry& registry() const { return registry_; }

  // Creates the services' sender users that do not exist yet, starts the cursors of new
  // services, sweeps to-device inboxes filled while the server was down and starts the
  // senders. An error (storage) means the server cannot run. Main thread, before the loop.
  Status start();
  // Aborts requests under way and stops the senders; queued items stay for the next start.
  void stop();

  // Loop thread: the events stream grew.
  void events_appended();
  // Loop thread: a user's devices or keys changed (MSC3202 device lists are fed with events).
  void device_lists_changed() { events_appended(); }
  // Loop thread: these local users got to-device messages.
  void to_device_stored(const std::set<std::string>& recipients);
  // Loop thread: a typing change, receipt or presence update.
  void ephemeral(Ephemeral e);
  // Any thread: the service answered a ping, so its transactions are retried now.
  void reachable(const std::string& service_id);

 private:
  void run_feed();
  void wake_all();

  storage::Store& store_;
  Registry registry_;
  std::vector<std::unique_ptr<Sender>> senders_;
  bool feeding_ = false;     // a feed job is queued (loop thread)
  bool feed_again_ = false;  // more events came while it was
};

}  // namespace haven::appservice
