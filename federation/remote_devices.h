// Other servers' users' devices and keys, as this server's clients need them: key queries and
// claims sent to their servers (e2ee::RemoteKeys, for the client API), and the inbound
// m.device_list_update and m.signing_key_update EDUs that keep the remote device-list cache
// (e2ee/remote_device_cache.h) fresh, with a resync through GET /user/devices when an update
// was missed. Loop thread only.
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>

#include <rapidjson/document.h>

#include "federation/client.h"
#include "homeserver/base/loop.h"
#include "homeserver/e2ee/remote_keys.h"
#include "storage/store.h"

namespace haven::federation {

class RemoteDevices : public e2ee::RemoteKeys {
 public:
  // `changed(user_id)` runs (loop thread) once a remote user's device list change is durable:
  // it wakes the /sync of local users sharing a room with them.
  RemoteDevices(storage::Store& store, FederationClient& client,
                std::function<void(const std::string& user_id)> changed);
  ~RemoteDevices() override;

  void post_to_servers(const std::string& path,
                       std::map<std::string, std::string> bodies_by_server, int64_t timeout_ms,
                       std::function<void(Answers)> done) override;

  // EDU handlers (EduHandlers::add): content of an EDU `origin` sent. Updates about users of
  // another server than the origin are ignored.
  void on_device_list_update(const std::string& origin, const rapidjson::Value& content);
  void on_signing_key_update(const std::string& origin, const rapidjson::Value& content);

  // Fetches the user's whole device list from their server into the cache.
  void resync(const std::string& user_id);

 private:
  storage::Store& store_;
  FederationClient& client_;
  std::function<void(const std::string&)> changed_;
  std::set<std::string> resyncing_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace haven::federation
