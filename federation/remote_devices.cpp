#include "federation/remote_devices.h"

#include <spdlog/spdlog.h>


#include "federation/destinations.h"
#include "federation/url_path.h"
#include "homeserver/base/json.h"
#include "homeserver/e2ee/device_lists.h"
#include "homeserver/e2ee/remote_device_cache.h"

namespace haven::federation {

namespace {

// The user an EDU is about, when it is a user of `origin`; "" otherwise.
std::string user_of_origin(const std::string& origin, const rapidjson::Value& content) {
  if (!content.IsObject()) return {};
  std::string user_id = json::get_string(content, "user_id");
  if (user_id.empty() || user_id[0] != '@' || user_id.find('\0') != std::string::npos ||
      server_of(user_id) != origin) {
    return {};
  }
  return user_id;
}

}  // namespace

RemoteDevices::RemoteDevices(storage::Store& store, FederationClient& client,
                             std::function<void(const std::string&)> changed)
    : store_(store), client_(client), changed_(std::move(changed)) {}

RemoteDevices::~RemoteDevices() { *alive_ = false; }

void RemoteDevices::post_to_servers(const std::string& path,
                                    std::map<std::string, std::string> bodies_by_server,
                                    int64_t timeout_ms, std::function<void(Answers)> done) {
  struct Pending {
    Answers answers;
    size_t left = 0;
    std::function<void(Answers)> done;
  };
  auto pending = std::make_shared<Pending>();
  pending->left = bodies_by_server.size();
  pending->done = std::move(done);
  if (pending->left == 0) return pending->done({});
  for (auto& [server, body] : bodies_by_server) {
    OutboundRequest request;
    request.destination = server;
    request.method = "POST";
    request.target = path;
    request.json_body = std::move(body);
    request.timeout_s = std::max<long>(1, static_cast<long>((timeout_ms + 999) / 1000));
    client_.send(std::move(request), [pending, server](Result<OutboundResponse> r) {
      if (!r.ok()) {
        pending->answers.emplace(server, std::move(r).error());
      } else if (r->status != 200) {
        pending->answers.emplace(
            server, Error::with(502, "M_UNKNOWN",
                                server + " answered with HTTP " + std::to_string(r->status)));
      } else {
        pending->answers.emplace(server, std::move(r->body));
      }
      if (--pending->left == 0) pending->done(std::move(pending->answers));
    });
  }
}

void RemoteDevices::on_device_list_update(const std::string& origin,
                                          const rapidjson::Value& content) {
  std::string user_id = user_of_origin(origin, content);
  if (user_id.empty()) return;
  auto copy = std::make_shared<json::Document>();
  copy->CopyFrom(content, copy->GetAllocator());
  auto outcome = std::make_shared<e2ee::UpdateOutcome>(e2ee::UpdateOutcome::kApplied);
  store_.submit(
      [user_id, copy, outcome](storage::WriteTxn& txn) {
        storage::Status s;
        *outcome = e2ee::apply_device_list_update(txn, user_id, *copy, &s);
        if (!s.ok()) return s;
        return e2ee::mark_device_list_changed(txn, user_id);
      },
      [this, alive = alive_, user_id, outcome](storage::Status s) {
        if (!*alive || !s.ok()) return;
        changed_(user_id);
        if (*outcome == e2ee::UpdateOutcome::kNeedsResync) resync(user_id);
      });
}

void RemoteDevices::on_signing_key_update(const std::string& origin,
                                          const rapidjson::Value& content) {
  std::string user_id = user_of_origin(origin, content);
  if (user_id.empty()) return;
  auto copy = std::make_shared<json::Document>();
  copy->CopyFrom(content, copy->GetAllocator());
  store_.submit(
      [user_id, copy](storage::WriteTxn& txn) {
        if (auto s = e2ee::apply_signing_key_update(txn, user_id, *copy); !s.ok()) return s;
        return e2ee::mark_device_list_changed(txn, user_id);
      },
      [this, alive = alive_, user_id](storage::Status s) {
        if (*alive && s.ok()) changed_(user_id);
      });
}

void RemoteDevices::resync(const std::string& user_id) {
  if (!resyncing_.insert(user_id).second) return;  // one at a time per user
  OutboundRequest request;
  request.destination = server_of(user_id);
  request.target = "/_matrix/federation/v1/user/devices/" + encode_path_segment(user_id);
  client_.send(std::move(request), [this, alive = alive_, user_id](Result<OutboundResponse> r) {
    if (!*alive) return;
    resyncing_.erase(user_id);
    if (!r.ok() || r->status != 200) {
      spdlog::info("federation: device list of {} not resynced: {}", user_id,
                   r.ok() ? "HTTP " + std::to_string(r->status) : r.error().message);
      return;
    }
    auto parsed = json::parse_object(r->body);
    if (!parsed.ok() || json::get_string(*parsed, "user_id") != user_id) return;
    auto answer = std::make_shared<json::Document>(std::move(*parsed));
    store_.submit(
        [user_id, answer](storage::WriteTxn& txn) {
          if (auto s = e2ee::cache_device_list(txn, user_id, *answer); !s.ok()) return s;
          return e2ee::mark_device_list_changed(txn, user_id);
        },
        [this, alive, user_id](storage::Status s) {
          if (*alive && s.ok()) changed_(user_id);
        });
  });
}

}  // namespace haven::federation
