#include "federation/pdu_checks.h"

#include <memory>
#include <set>

#include "crypto/json_signing.h"
#include "homeserver/rooms/auth_rules.h"
#include "homeserver/rooms/ids.h"
#include "homeserver/rooms/redaction.h"

namespace haven::federation {
namespace {

// Fetches the keys of `wanted`, then verifies the event's redacted form with them.
void check_signed_by(KeyRing& keys, const rooms::EventPtr& event,
                     const std::vector<std::string>& servers, std::function<void(Status)> done) {
  auto wanted = signing_keys_wanted(*event, servers);
  if (!wanted.ok()) return done(std::move(wanted).error());
  fetch_signing_keys(keys, event->origin_server_ts(), std::move(*wanted),
                     [event, done = std::move(done)](std::vector<SigningKey> fetched) {
                       done(verify_signatures(rooms::redact(event->json(), event->version()),
                                              fetched));
                     });
}

}  // namespace

bool content_hash_matches(const rooms::Event& event) {
  return crypto::check_content_hash(event.json());
}

Status check_pushed_event(const rooms::Event& ev, const std::string& origin,
                          const std::string& room_id, const std::string& event_id) {
  if (ev.event_id() != event_id) {
    return Error::invalid_param("The event id in the path is not the event's id");
  }
  if (ev.room_id() != room_id) return Error::invalid_param("The event is for another room");
  if (rooms::server_name_of(ev.sender()) != origin) {
    return Error::invalid_param("The sender is not a user of the origin server");
  }
  if (!content_hash_matches(ev)) return Error::invalid_param("The event's content hash is wrong");
  return {};
}

Result<std::vector<SigningKey>> signing_keys_wanted(const rooms::Event& event,
                                                    const std::vector<std::string>& servers) {
  std::vector<SigningKey> out;
  auto sigs = event.json().FindMember("signatures");
  for (const std::string& server : servers) {
    size_t found = 0;
    if (sigs != event.json().MemberEnd() && sigs->value.IsObject()) {
      auto by_server = sigs->value.FindMember(server.c_str());
      if (by_server != sigs->value.MemberEnd() && by_server->value.IsObject()) {
        for (const auto& sig : by_server->value.GetObject()) {
          std::string key_id(sig.name.GetString(), sig.name.GetStringLength());
          if (!is_ed25519_key_id(key_id) || found == kMaxKeyIdsPerServer) continue;
          out.push_back({server, std::move(key_id), std::nullopt});
          ++found;
        }
      }
    }
    if (found == 0) return Error::forbidden("The event is not signed by " + server);
  }
  return out;
}

void fetch_signing_keys(KeyRing& keys, int64_t ts, std::vector<SigningKey> wanted,
                        std::function<void(std::vector<SigningKey>)> done) {
  if (wanted.empty()) return done({});
  auto shared = std::make_shared<std::vector<SigningKey>>(std::move(wanted));
  auto remaining = std::make_shared<size_t>(shared->size());
  for (size_t i = 0; i < shared->size(); ++i) {
    const SigningKey& k = (*shared)[i];
    keys.get_key(k.server, k.key_id, ts, KeyUse::kEvent,
                 [shared, remaining, i, done](Result<KnownKey> key) {
                   if (key.ok()) (*shared)[i].key = std::move(*key);
                   if (--*remaining == 0) done(std::move(*shared));
                 });
  }
}

Status verify_signatures(const rapidjson::Value& redacted, const std::vector<SigningKey>& keys) {
  std::set<std::string> verified;
  for (const SigningKey& k : keys) {
    if (k.key && crypto::verify_json(redacted, k.server, k.key_id, k.key->public_key)) {
      verified.insert(k.server);
    }
  }
  for (const SigningKey& k : keys) {
    if (!verified.contains(k.server)) {
      return Error::forbidden("Invalid or unverifiable signature of " + k.server);
    }
  }
  return {};
}

void check_pdu_signatures(KeyRing& keys, const rooms::EventPtr& event,
                          std::function<void(Status)> done) {
  auto servers = rooms::servers_required_to_sign(*event, event->version());
  if (servers.empty()) {
    return done(Error::forbidden("Event " + event->event_id() + " has no sender server"));
  }
  check_signed_by(keys, event, servers, std::move(done));
}

void check_server_signature(KeyRing& keys, const rooms::EventPtr& event, const std::string& server,
                            std::function<void(Status)> done) {
  check_signed_by(keys, event, {server}, std::move(done));
}

void check_pdus_signatures(KeyRing& keys, const std::vector<rooms::EventPtr>& events,
                           std::function<void(std::vector<Status>)> done) {
  struct Batch {
    std::vector<Status> results;
    size_t pending = 0;
    std::function<void(std::vector<Status>)> done;
  };
  auto batch = std::make_shared<Batch>();
  batch->results.resize(events.size());
  batch->pending = events.size();
  batch->done = std::move(done);
  if (events.empty()) return batch->done({});
  for (size_t i = 0; i < events.size(); ++i) {
    check_pdu_signatures(keys, events[i], [batch, i](Status s) {
      batch->results[i] = std::move(s);
      if (--batch->pending == 0) batch->done(std::move(batch->results));
    });
  }
}

}  // namespace haven::federation
