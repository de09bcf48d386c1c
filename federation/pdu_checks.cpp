#include "federation/pdu_checks.h"

#include <memory>

#include "crypto/json_signing.h"
#include "homeserver/rooms/auth_rules.h"
#include "homeserver/rooms/redaction.h"

namespace haven::federation {
namespace {

Error unsigned_by(const std::string& server, const rooms::Event& event) {
  return Error::forbidden("Event " + event.event_id() + " has no valid signature of " + server);
}

// The ed25519 key ids `server` signed the event with.
std::vector<std::string> signing_key_ids(const rooms::Event& event, const std::string& server) {
  std::vector<std::string> out;
  auto sigs = event.json().FindMember("signatures");
  if (sigs == event.json().MemberEnd() || !sigs->value.IsObject()) return out;
  auto of = sigs->value.FindMember(server.c_str());
  if (of == sigs->value.MemberEnd() || !of->value.IsObject()) return out;
  for (const auto& m : of->value.GetObject()) {
    std::string key_id(m.name.GetString(), m.name.GetStringLength());
    if (is_ed25519_key_id(key_id) && m.value.IsString()) out.push_back(std::move(key_id));
  }
  return out;
}

// Tries `server`'s key ids in turn until one verifies the redacted event.
void check_one_server(KeyRing& keys, const rooms::EventPtr& event,
                      std::shared_ptr<rapidjson::Document> redacted, std::string server,
                      std::vector<std::string> key_ids, size_t next,
                      std::function<void(Status)> done) {
  if (next >= key_ids.size()) return done(unsigned_by(server, *event));
  const std::string key_id = key_ids[next];
  keys.get_key(
      server, key_id, event->origin_server_ts(), KeyUse::kEvent,
      [&keys, event, redacted, server, key_ids = std::move(key_ids), next,
       done = std::move(done)](Result<KnownKey> key) mutable {
        if (key.ok() && crypto::verify_json(*redacted, server, key_ids[next], key->public_key)) {
          return done(Status{});
        }
        check_one_server(keys, event, redacted, std::move(server), std::move(key_ids), next + 1,
                         std::move(done));
      });
}

void check_servers(KeyRing& keys, const rooms::EventPtr& event,
                   std::shared_ptr<rapidjson::Document> redacted,
                   std::shared_ptr<std::vector<std::string>> servers, size_t next,
                   std::function<void(Status)> done) {
  if (next >= servers->size()) return done(Status{});
  const std::string server = (*servers)[next];
  check_one_server(keys, event, redacted, server, signing_key_ids(*event, server), 0,
                   [&keys, event, redacted, servers, next, done = std::move(done)](Status s) {
                     if (!s.ok()) return done(std::move(s));
                     check_servers(keys, event, redacted, servers, next + 1, std::move(done));
                   });
}

}  // namespace

bool content_hash_matches(const rooms::Event& event) {
  return crypto::check_content_hash(event.json());
}

void check_pdu_signatures(KeyRing& keys, const rooms::EventPtr& event,
                          std::function<void(Status)> done) {
  auto redacted =
      std::make_shared<rapidjson::Document>(rooms::redact(event->json(), event->version()));
  auto servers = std::make_shared<std::vector<std::string>>(
      rooms::servers_required_to_sign(*event, event->version()));
  if (servers->empty())
    return done(Error::forbidden("Event " + event->event_id() + " has no sender server"));
  check_servers(keys, event, std::move(redacted), std::move(servers), 0, std::move(done));
}

void check_server_signature(KeyRing& keys, const rooms::EventPtr& event, const std::string& server,
                            std::function<void(Status)> done) {
  auto redacted =
      std::make_shared<rapidjson::Document>(rooms::redact(event->json(), event->version()));
  check_one_server(keys, event, std::move(redacted), server, signing_key_ids(*event, server), 0,
                   std::move(done));
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
