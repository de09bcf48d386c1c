// Tests of federation/pdu_intake.cpp (and the room core's rooms/remote_event.cpp and
// append_event_at_state beneath it): PDUs signed by "remote.test" fed to the intake of a
// server "local.test" that holds the room.
#include "federation/pdu_intake.h"

#include <boost/test/unit_test.hpp>

#include <deque>
#include <set>
#include <tuple>

#include "crypto/json_signing.h"
#include "federation/dns_srv.h"
#include "federation/key_store.h"
#include "federation/well_known_fetch.h"
#include "homeserver/base/json.h"
#include "homeserver/rooms/auth_rules.h"
#include "homeserver/rooms/create_room.h"
#include "homeserver/rooms/event_builder.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/room_service.h"
#include "homeserver/rooms/state_at_event.h"
#include "storage/lmdb_store.h"
#include "tests/unit/support/test_store.h"

namespace haven::federation {
namespace {

using rooms::ReceivedEvent;

const crypto::SigningKey& local_key() {
  static const auto key = *crypto::SigningKey::from_seed(std::string(32, '\x01'), "l1");
  return key;
}
const crypto::SigningKey& remote_key() {
  static const auto key = *crypto::SigningKey::from_seed(std::string(32, '\x02'), "r1");
  return key;
}
// Another key under remote.test's key id: what a forger signs with.
const crypto::SigningKey& forged_key() {
  static const auto key = *crypto::SigningKey::from_seed(std::string(32, '\x03'), "r1");
  return key;
}

const std::string kAlice = "@alice:local.test";
const std::string kBob = "@bob:remote.test";
const std::string kCarol = "@carol:remote.test";

// The other server's side, as the intake asks it for missing events: its DAG by event id.
class FakeRemote : public RemoteRoomSource {
 public:
  std::map<std::string, std::string> events;  // event id -> PDU JSON
  std::map<std::string, RemoteStateIds> states;
  bool answers_missing_events = true;
  int missing_events_calls = 0;
  std::vector<std::string> fetched;  // /event calls, in order

  // Walks back from `latest` through prev_events it knows, stopping at `earliest`.
  void get_missing_events(const std::string&, const std::string&,
                          const std::vector<std::string>& earliest,
                          const std::vector<std::string>& latest, int limit, int64_t,
                          EventsDone done) override {
    ++missing_events_calls;
    if (!answers_missing_events) return done(Error::not_found("Not telling"));
    std::vector<std::string> out;
    std::set<std::string> seen(earliest.begin(), earliest.end());
    std::deque<std::string> queue;
    auto push_prevs = [&](const std::string& id) {
      if (!events.contains(id)) return;
      auto doc = json::parse_trusted(events.at(id));
      for (auto& p : doc["prev_events"].GetArray()) queue.emplace_back(p.GetString());
    };
    for (const auto& id : latest) push_prevs(id);
    while (!queue.empty() && out.size() < static_cast<size_t>(limit)) {
      std::string id = queue.front();
      queue.pop_front();
      if (!seen.insert(id).second || !events.contains(id)) continue;
      out.push_back(events.at(id));
      push_prevs(id);
    }
    done(std::move(out));
  }
  void state_ids(const std::string&, const std::string&, const std::string& event_id,
                 StateIdsDone done) override {
    auto it = states.find(event_id);
    if (it == states.end()) return done(Error::not_found("No state"));
    done(it->second);
  }
  void event(const std::string&, const std::string& event_id, EventDone done) override {
    fetched.push_back(event_id);
    auto it = events.find(event_id);
    if (it == events.end()) return done(Error::not_found("No event"));
    done(it->second);
  }
};

// local.test with a store, key ring (remote.test's key stored), intake and one room created
// by alice, which bob and carol of remote.test join.
class Rig {
 public:
  explicit Rig(std::string_view version = rooms::kDefaultRoomVersion)
      : version_(*rooms::find_room_version(version)) {
    ServerKeys keys;
    keys.server_name = "remote.test";
    keys.valid_until_ts = int64_t{1} << 50;
    keys.keys["ed25519:r1"] = KnownKey{remote_key().public_key(), int64_t{1} << 50, 0};
    keys.json = "{}";
    store.write([&](storage::WriteTxn& txn) { return put_server_keys(txn, keys, 1); });
  }

  // alice's public room; returns its id.
  std::string create_room() {
    rooms::CreateRoomRequest request;
    request.preset = rooms::RoomPreset::kPublicChat;
    store.write([&](storage::WriteTxn& txn) {
      auto created = rooms::create_room(txn, local(), request, kAlice, version_, {});
      BOOST_REQUIRE_MESSAGE(created.ok(), (created.ok() ? "" : created.error().message));
      room_id = created->front().event->room_id();
      return storage::Status::ok_status();
    });
    return room_id;
  }

  rooms::LocalServer local() const { return {"local.test", &local_key(), nullptr}; }

  // A local event sent by alice; its id.
  std::string send_local(const std::string& type, std::optional<std::string> state_key,
                         const std::string& content) {
    std::string id;
    store.write([&](storage::WriteTxn& txn) {
      rooms::EventDraft draft;
      draft.room_id = room_id;
      draft.sender = kAlice;
      draft.type = type;
      draft.state_key = std::move(state_key);
      draft.content.Parse(content.c_str());
      draft.origin_server_ts = next_ts_++;
      auto sent = rooms::send_event(txn, local(), std::move(draft));
      BOOST_REQUIRE_MESSAGE(sent.ok(), (sent.ok() ? "" : sent.error().message));
      id = sent->event->event_id();
      last_local_ = sent->event;
      return storage::Status::ok_status();
    });
    return id;
  }

  // A PDU of remote.test: auth events selected from the state before `prevs` (the current
  // state when this server does not know them), hashed and signed with `key`.
  std::string remote_pdu(const std::string& sender, const std::string& type,
                         std::optional<std::string> state_key, const std::string& content,
                         std::vector<std::string> prevs = {},
                         const crypto::SigningKey& key = remote_key(),
                         std::optional<std::vector<std::string>> auth_ids = std::nullopt) {
    auto txn = store.read();
    if (prevs.empty()) prevs = rooms::get_room(*txn, room_id)->extremities;
    auto state = rooms::state_before_event(*txn, version_, prevs);
    rooms::StateIds ids = state.ok() ? *state
                                     : rooms::state_ids_at_group(
                                           *txn, rooms::get_room(*txn, room_id)->state_group);
    json::Document doc = json::object();
    auto& a = doc.GetAllocator();
    json::Document body;
    body.Parse(content.c_str());
    json::Value auth(rapidjson::kArrayType), prev(rapidjson::kArrayType);
    for (auto& k : rooms::auth_types_for_event(type, sender, state_key, body, version_)) {
      if (auto it = ids.find(k); it != ids.end()) auth.PushBack(json::str(it->second, a), a);
    }
    if (auth_ids) {
      auth.Clear();
      for (auto& id : *auth_ids) auth.PushBack(json::str(id, a), a);
    }
    for (auto& p : prevs) prev.PushBack(json::str(p, a), a);
    json::set(doc, "auth_events", std::move(auth), a);
    json::Value content_value;
    content_value.CopyFrom(body, a);
    json::set(doc, "content", std::move(content_value), a);
    json::set(doc, "depth", next_depth_++, a);
    json::set(doc, "origin_server_ts", next_ts_++, a);
    json::set(doc, "prev_events", std::move(prev), a);
    json::set(doc, "room_id", room_id, a);
    json::set(doc, "sender", sender, a);
    if (state_key) json::set(doc, "state_key", *state_key, a);
    json::set(doc, "type", type, a);
    BOOST_REQUIRE(crypto::add_content_hash(doc, a));
    BOOST_REQUIRE(rooms::sign_pdu(doc, version_, "remote.test", key));
    return json::to_string(doc);
  }

  std::string id_of(const std::string& pdu) {
    return *rooms::compute_event_id(json::parse_trusted(pdu), version_);
  }

  PduIntake::Outcome receive(const std::string& pdu) {
    std::optional<PduIntake::Outcome> out;
    intake.receive("remote.test", pdu, [&](PduIntake::Outcome o) {
      out = std::move(o);
      loop.stop();
    });
    if (!out) loop.run();
    BOOST_REQUIRE(out);
    return *out;
  }

  // Receives `pdus` as one transaction: the outcome of each, in the same order.
  std::vector<PduIntake::Outcome> receive_all(const std::vector<std::string>& pdus) {
    std::vector<std::optional<PduIntake::Outcome>> out(pdus.size());
    size_t remaining = pdus.size();
    std::vector<PduIntake::Pdu> batch;
    for (size_t i = 0; i < pdus.size(); ++i) {
      batch.push_back({pdus[i], [&, i](PduIntake::Outcome o) {
                         out[i] = std::move(o);
                         if (--remaining == 0) loop.stop();
                       }});
    }
    intake.receive_all("remote.test", std::move(batch));
    if (remaining > 0) loop.run();
    std::vector<PduIntake::Outcome> outcomes;
    for (auto& o : out) {
      BOOST_REQUIRE(o);
      outcomes.push_back(std::move(*o));
    }
    return outcomes;
  }

  // Write transactions the store committed so far.
  uint64_t commits() { return dynamic_cast<storage::LmdbStore&>(store.store()).commit_count(); }

  // Receives `pdu` and requires it to be accepted into the timeline; its id.
  std::string accept(const std::string& pdu) {
    auto out = receive(pdu);
    BOOST_REQUIRE_MESSAGE(!out.error, out.error.value_or(""));
    BOOST_REQUIRE(out.stored == ReceivedEvent::Outcome::kAccepted);
    return out.event_id;
  }

  std::string join_remote(const std::string& user) {
    return accept(remote_pdu(user, "m.room.member", user, R"({"membership":"join"})"));
  }

  std::vector<std::string> timeline() {
    std::vector<std::string> out;
    auto txn = store.read();
    rooms::scan_timeline(*txn, room_id, 0, storage::Direction::kForward,
                         [&](uint64_t, std::string_view id) {
                           out.emplace_back(id);
                           return true;
                         });
    return out;
  }
  rooms::RoomRecord room() { return *rooms::get_room(*store.read(), room_id); }
  std::string current(const std::string& type, const std::string& state_key = "") {
    auto ev = rooms::current_state_event(*store.read(), room_id, type, state_key);
    return ev ? ev->event_id() : "";
  }
  rooms::StateIds current_ids() { return rooms::state_ids_at_group(*store.read(), room().state_group); }
  rooms::EventPtr last_local() const { return last_local_; }

  Loop loop;
  test::TestStore store{[this](std::function<void()> fn) { loop.post(std::move(fn)); }};
  TlsPolicy tls;
  SystemDns dns;
  HttpsWellKnown well_known{tls};
  Resolver resolver{dns, well_known, {}, [] { return int64_t{0}; }};
  ServerAllowList allowed{{"*"}};
  FederationClient client{&loop, resolver, local_key(), "local.test", tls, allowed, 1};
  KeyRing keys{loop, store.store(), client, "local.test", local_key(), {}, {}};
  FakeRemote remote;
  WorkerPool workers{1};
  std::vector<rooms::EventPtr> appended;
  PduIntake intake{loop, store.store(), keys, remote, &workers,
                   [this](const rooms::EventPtr& ev) { appended.push_back(ev); }};
  std::string room_id;

 private:
  const rooms::RoomVersion& version_;
  int64_t next_depth_ = 100;
  int64_t next_ts_ = 1'000'000;
  rooms::EventPtr last_local_;
};

bool contains(const std::vector<std::string>& list, const std::string& id) {
  return std::find(list.begin(), list.end(), id) != list.end();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pdu_intake)

BOOST_AUTO_TEST_CASE(accepted_events_enter_the_timeline_and_the_current_state) {
  for (std::string_view version : {"10", "11", "12"}) {
    BOOST_TEST_CONTEXT("room version " << version) {
      Rig rig(version);
      rig.create_room();
      std::string join = rig.join_remote(kBob);
      BOOST_CHECK_EQUAL(rig.current("m.room.member", kBob), join);
      auto membership = rooms::membership(*rig.store.read(), kBob, rig.room_id);
      BOOST_REQUIRE(membership);
      BOOST_CHECK_EQUAL(membership->membership, "join");

      std::string message =
          rig.accept(rig.remote_pdu(kBob, "m.room.message", std::nullopt, R"({"body":"hi"})"));
      BOOST_CHECK_EQUAL(rig.timeline().back(), message);
      BOOST_CHECK(rig.room().extremities == std::vector<std::string>{message});
      BOOST_REQUIRE_EQUAL(rig.appended.size(), 2u);
      BOOST_CHECK_EQUAL(rig.appended.back()->event_id(), message);

    }
  }
}

BOOST_AUTO_TEST_CASE(a_pdu_received_twice_is_stored_once) {
  Rig rig;
  rig.create_room();
  rig.join_remote(kBob);
  std::string pdu = rig.remote_pdu(kBob, "m.room.message", std::nullopt, R"({"body":"once"})");
  std::string id = rig.accept(pdu);
  auto again = rig.receive(pdu);
  BOOST_CHECK(!again.error);
  BOOST_CHECK(again.stored == ReceivedEvent::Outcome::kAlreadyKnown);
  auto timeline = rig.timeline();
  BOOST_CHECK_EQUAL(std::count(timeline.begin(), timeline.end(), id), 1);
}

BOOST_AUTO_TEST_CASE(a_forged_signature_is_dropped) {
  Rig rig;
  rig.create_room();
  rig.join_remote(kBob);
  std::string pdu =
      rig.remote_pdu(kBob, "m.room.message", std::nullopt, R"({"body":"x"})", {}, forged_key());
  auto out = rig.receive(pdu);
  BOOST_REQUIRE(out.error);
  BOOST_CHECK_MESSAGE(out.error->find("signature") != std::string::npos, out.error.value_or(""));
  BOOST_CHECK(!out.stored);
  BOOST_CHECK(!rooms::get_event(*rig.store.read(), rig.id_of(pdu)));
  BOOST_CHECK(!contains(rig.timeline(), rig.id_of(pdu)));
}

BOOST_AUTO_TEST_CASE(an_unsigned_event_is_dropped) {
  Rig rig;
  rig.create_room();
  rig.join_remote(kBob);
  auto doc = json::parse_trusted(
      rig.remote_pdu(kBob, "m.room.message", std::nullopt, R"({"body":"x"})"));
  doc["signatures"].SetObject();
  auto out = rig.receive(json::to_string(doc));
  BOOST_REQUIRE(out.error);
  BOOST_CHECK_MESSAGE(out.error->find("not signed by remote.test") != std::string::npos,
                      out.error.value_or(""));
}

BOOST_AUTO_TEST_CASE(a_wrong_content_hash_stores_the_redacted_event) {
  Rig rig;
  rig.create_room();
  rig.join_remote(kBob);
  auto doc = json::parse_trusted(
      rig.remote_pdu(kBob, "m.room.message", std::nullopt, R"({"body":"original"})"));
  // The content changes after signing: the signature (over the redacted form) still holds.
  doc["content"]["body"].SetString("tampered");
  std::string pdu = json::to_string(doc);
  std::string id = rig.accept(pdu);
  BOOST_CHECK_EQUAL(id, rig.id_of(pdu));
  auto stored = rooms::get_event(*rig.store.read(), id);
  BOOST_REQUIRE(stored);
  BOOST_CHECK(stored->redacted);
  BOOST_CHECK(stored->event->content().IsObject());
  BOOST_CHECK(!stored->event->content().HasMember("body"));
  BOOST_CHECK(contains(rig.timeline(), id));
}

BOOST_AUTO_TEST_CASE(an_event_the_auth_rules_refuse_is_rejected) {
  Rig rig;
  rig.create_room();
  rig.join_remote(kBob);
  std::string power_before = rig.current("m.room.power_levels");
  std::string pdu = rig.remote_pdu(kBob, "m.room.power_levels", "",
                                   R"({"users":{"@bob:remote.test":100}})");
  auto out = rig.receive(pdu);
  BOOST_REQUIRE(out.error);
  BOOST_CHECK_MESSAGE(out.error->find("Rejected") == 0, out.error.value_or(""));
  BOOST_CHECK(out.stored == ReceivedEvent::Outcome::kRejected);
  auto txn = rig.store.read();
  BOOST_CHECK(rooms::rejected_event(*txn, rig.id_of(pdu)));
  BOOST_CHECK(!rooms::get_event(*txn, rig.id_of(pdu)));
  BOOST_CHECK_EQUAL(rig.current("m.room.power_levels"), power_before);
  BOOST_CHECK(!contains(rig.timeline(), rig.id_of(pdu)));
}

BOOST_AUTO_TEST_CASE(an_event_citing_wrong_auth_events_is_rejected) {
  Rig rig;
  rig.create_room();
  std::string bob_join = rig.join_remote(kBob);
  // A message citing bob's join plus alice's membership, which the selection does not allow.
  std::string alice_member = rig.current("m.room.member", kAlice);
  auto doc = json::parse_trusted(
      rig.remote_pdu(kBob, "m.room.message", std::nullopt, R"({"body":"x"})"));
  auto& a = doc.GetAllocator();
  doc["auth_events"].PushBack(json::str(alice_member, a), a);
  doc.RemoveMember("signatures");
  doc.RemoveMember("hashes");
  BOOST_REQUIRE(crypto::add_content_hash(doc, a));
  BOOST_REQUIRE(rooms::sign_pdu(doc, *rooms::find_room_version(rooms::kDefaultRoomVersion),
                                "remote.test", remote_key()));
  auto out = rig.receive(json::to_string(doc));
  BOOST_CHECK(out.stored == ReceivedEvent::Outcome::kRejected);
}

BOOST_AUTO_TEST_CASE(an_event_allowed_before_but_not_now_is_soft_failed) {
  Rig rig;
  rig.create_room();
  std::string bob_join = rig.join_remote(kBob);
  std::string ban = rig.send_local("m.room.member", kBob, R"({"membership":"ban"})");
  // bob's server builds on the DAG before the ban: allowed there, not in the current state.
  std::string message = rig.remote_pdu(kBob, "m.room.message", std::nullopt,
                                       R"({"body":"evading"})", {bob_join});
  auto out = rig.receive(message);
  BOOST_CHECK(!out.error);
  BOOST_CHECK(out.stored == ReceivedEvent::Outcome::kSoftFailed);
  std::string rename = rig.remote_pdu(kBob, "m.room.member", kBob,
                                      R"({"membership":"join","displayname":"B"})", {bob_join});
  BOOST_CHECK(rig.receive(rename).stored == ReceivedEvent::Outcome::kSoftFailed);

  auto stored = rooms::get_event(*rig.store.read(), rig.id_of(message));
  BOOST_REQUIRE(stored);
  BOOST_CHECK(stored->soft_failed);
  BOOST_CHECK(!contains(rig.timeline(), rig.id_of(message)));
  BOOST_CHECK(!contains(rig.timeline(), rig.id_of(rename)));
  BOOST_CHECK_EQUAL(rig.current("m.room.member", kBob), ban);
  BOOST_CHECK(rig.room().extremities == std::vector<std::string>{ban});
  BOOST_CHECK_EQUAL(rig.appended.size(), 1u);  // bob's join only
}

BOOST_AUTO_TEST_CASE(a_rejected_event_is_refused_again_without_rechecking) {
  Rig rig;
  rig.create_room();
  rig.join_remote(kBob);
  std::string pdu = rig.remote_pdu(kBob, "m.room.power_levels", "",
                                   R"({"users":{"@bob:remote.test":100}})");
  BOOST_CHECK(rig.receive(pdu).stored == ReceivedEvent::Outcome::kRejected);
  BOOST_CHECK(rig.receive(pdu).stored == ReceivedEvent::Outcome::kAlreadyKnown);
}

BOOST_AUTO_TEST_CASE(a_pdu_of_an_unknown_room_is_dropped) {
  Rig rig;
  rig.create_room();
  auto doc = json::parse_trusted(
      rig.remote_pdu(kAlice, "m.room.message", std::nullopt, R"({"body":"x"})"));
  doc["room_id"].SetString("!elsewhere:remote.test");
  auto out = rig.receive(json::to_string(doc));
  BOOST_REQUIRE(out.error);
  BOOST_CHECK_MESSAGE(out.error->find("not in room") != std::string::npos, out.error.value_or(""));
  BOOST_CHECK(rig.receive("[1]").error);
  BOOST_CHECK(rig.receive("not json").error);
}

BOOST_AUTO_TEST_CASE(missing_prev_events_are_fetched_with_get_missing_events) {
  Rig rig;
  rig.create_room();
  rig.join_remote(kBob);
  std::string m1 = rig.remote_pdu(kBob, "m.room.message", std::nullopt, R"({"body":"1"})");
  std::string m2 = rig.remote_pdu(kBob, "m.room.message", std::nullopt, R"({"body":"2"})",
                                  {rig.id_of(m1)});
  std::string m3 = rig.remote_pdu(kBob, "m.room.message", std::nullopt, R"({"body":"3"})",
                                  {rig.id_of(m2)});
  for (const auto& pdu : {m1, m2, m3}) rig.remote.events[rig.id_of(pdu)] = pdu;

  BOOST_CHECK_EQUAL(rig.accept(m3), rig.id_of(m3));
  BOOST_CHECK_EQUAL(rig.remote.missing_events_calls, 1);
  auto timeline = rig.timeline();
  BOOST_REQUIRE_GE(timeline.size(), 3u);
  std::vector<std::string> last(timeline.end() - 3, timeline.end());
  BOOST_CHECK(last == (std::vector<std::string>{rig.id_of(m1), rig.id_of(m2), rig.id_of(m3)}));
  BOOST_CHECK(rig.room().extremities == std::vector<std::string>{rig.id_of(m3)});
}

BOOST_AUTO_TEST_CASE(without_missing_events_the_state_comes_from_state_ids) {
  Rig rig;
  rig.create_room();
  rig.join_remote(kBob);
  std::string m1 = rig.remote_pdu(kBob, "m.room.message", std::nullopt, R"({"body":"1"})");
  std::string m2 = rig.remote_pdu(kBob, "m.room.message", std::nullopt, R"({"body":"2"})",
                                  {rig.id_of(m1)});
  std::string m3 = rig.remote_pdu(kBob, "m.room.message", std::nullopt, R"({"body":"3"})",
                                  {rig.id_of(m2)});
  for (const auto& pdu : {m1, m2, m3}) rig.remote.events[rig.id_of(pdu)] = pdu;
  rig.remote.answers_missing_events = false;
  RemoteStateIds state;
  for (const auto& [key, id] : rig.current_ids()) state.pdu_ids.push_back(id);
  rig.remote.states[rig.id_of(m2)] = state;

  rig.accept(m3);
  BOOST_CHECK(rig.remote.fetched == std::vector<std::string>{rig.id_of(m2)});
  auto txn = rig.store.read();
  auto m2_stored = rooms::get_event(*txn, rig.id_of(m2));
  BOOST_REQUIRE(m2_stored);
  BOOST_CHECK(m2_stored->outlier);
  BOOST_CHECK(!rooms::get_event(*txn, rig.id_of(m1)));
  BOOST_CHECK_EQUAL(rig.timeline().back(), rig.id_of(m3));
  BOOST_CHECK(!contains(rig.timeline(), rig.id_of(m2)));
}

BOOST_AUTO_TEST_CASE(missing_auth_events_are_fetched_as_outliers) {
  Rig rig;
  rig.create_room();
  std::string bob_join = rig.join_remote(kBob);
  // bob's profile change, which this server never got, authorises his next message.
  std::string rename = rig.remote_pdu(kBob, "m.room.member", kBob,
                                      R"({"membership":"join","displayname":"Bob"})");
  rig.remote.events[rig.id_of(rename)] = rename;
  auto txn = rig.store.read();
  std::vector<std::string> auth;
  for (const auto& id : rooms::get_event(*txn, bob_join)->event->auth_events()) {
    if (rooms::get_event(*txn, id)->event->type() != "m.room.join_rules") auth.push_back(id);
  }
  txn.reset();
  auth.push_back(rig.id_of(rename));
  std::string message = rig.remote_pdu(kBob, "m.room.message", std::nullopt,
                                       R"({"body":"as Bob"})", {}, remote_key(), auth);
  rig.accept(message);
  BOOST_CHECK(rig.remote.fetched == std::vector<std::string>{rig.id_of(rename)});
  auto stored = rooms::get_event(*rig.store.read(), rig.id_of(rename));
  BOOST_REQUIRE(stored);
  BOOST_CHECK(stored->outlier);
  BOOST_CHECK_EQUAL(rig.current("m.room.member", kBob), bob_join);

  // An auth event nobody can give: the event is left out, and not remembered as rejected.
  auth.back() = "$unknown";
  std::string orphan = rig.remote_pdu(kBob, "m.room.message", std::nullopt, R"({"body":"?"})",
                                      {}, remote_key(), auth);
  auto out = rig.receive(orphan);
  BOOST_REQUIRE(out.error);
  BOOST_CHECK(!rooms::rejected_event(*rig.store.read(), rig.id_of(orphan)));
}

BOOST_AUTO_TEST_CASE(a_gap_nobody_fills_leaves_the_event_out) {
  Rig rig;
  rig.create_room();
  rig.join_remote(kBob);
  std::string m1 = rig.remote_pdu(kBob, "m.room.message", std::nullopt, R"({"body":"1"})");
  std::string m2 = rig.remote_pdu(kBob, "m.room.message", std::nullopt, R"({"body":"2"})",
                                  {rig.id_of(m1)});
  auto out = rig.receive(m2);  // the remote knows nothing of m1
  BOOST_REQUIRE(out.error);
  BOOST_CHECK(!rooms::get_event(*rig.store.read(), rig.id_of(m2)));
}

// Two branches from one event, each setting the topic: the current state is the same
// whichever branch arrives first, and a local event afterwards cites both.
BOOST_AUTO_TEST_CASE(a_fork_resolves_to_the_same_state_in_either_order) {
  for (std::string_view version : {"11", "12"}) {
    BOOST_TEST_CONTEXT("room version " << version) {
      Rig first(version), second(version);
      first.create_room();
      first.join_remote(kBob);
      first.join_remote(kCarol);
      // v12 creators have infinite power and may not be listed.
      std::string alice = version == "12" ? "" : R"("@alice:local.test":100,)";
      std::string fork = first.send_local(
          "m.room.power_levels", "",
          R"({"users":{)" + alice + R"("@bob:remote.test":100,"@carol:remote.test":50},
              "state_default":50,"events_default":0})");
      // The second server holds the same room up to the fork.
      second.room_id = first.room_id;
      auto events = first.timeline();
      second.store.write([&](storage::WriteTxn& txn) {
        rooms::RoomRecord room;
        room.room_id = first.room_id;
        room.version = std::string(version);
        auto src = first.store.read();
        for (const auto& id : events) {
          storage::Status s;
          rooms::append_event(txn, room, *rooms::get_event(*src, id)->event, &s);
          if (!s.ok()) return s;
        }
        return storage::Status::ok_status();
      });
      BOOST_REQUIRE(second.current_ids() == first.current_ids());

      std::string a = first.remote_pdu(kBob, "m.room.topic", "", R"({"topic":"A"})", {fork});
      std::string b = first.remote_pdu(kCarol, "m.room.topic", "", R"({"topic":"B"})", {fork});
      std::string a_name =
          first.remote_pdu(kBob, "m.room.name", "", R"({"name":"from A"})", {first.id_of(a)});
      first.accept(a);
      first.accept(a_name);
      first.accept(b);
      second.accept(b);
      second.accept(a);
      second.accept(a_name);

      BOOST_CHECK(first.current_ids() == second.current_ids());
      BOOST_CHECK_EQUAL(first.current("m.room.topic"), second.current("m.room.topic"));
      BOOST_CHECK_EQUAL(first.current("m.room.name"), first.id_of(a_name));
      auto first_ext = first.room().extremities, second_ext = second.room().extremities;
      std::set<std::string> ext1(first_ext.begin(), first_ext.end());
      std::set<std::string> ext2(second_ext.begin(), second_ext.end());
      BOOST_CHECK(ext1 == ext2);
      BOOST_CHECK(ext1 == (std::set<std::string>{first.id_of(a_name), first.id_of(b)}));

      // Both topics sit on the same power levels: the later origin_server_ts is applied last.
      BOOST_CHECK_EQUAL(first.current("m.room.topic"), first.id_of(b));

      first.send_local("m.room.message", std::nullopt, R"({"body":"after the fork"})");
      const auto& prev_list = first.last_local()->prev_events();
      std::set<std::string> prevs(prev_list.begin(), prev_list.end());
      BOOST_CHECK(prevs == ext1);
      BOOST_CHECK(first.room().extremities ==
                  std::vector<std::string>{first.last_local()->event_id()});
    }
  }
}

// Carol joins, renames herself and talks in one transaction: each PDU cites the one before
// (prev and auth events), which only the batch holds, and all three go in one commit.
BOOST_AUTO_TEST_CASE(a_later_pdu_of_a_transaction_builds_on_an_earlier_one) {
  Rig rig;
  rig.create_room();
  rig.join_remote(kBob);
  rig.remote.answers_missing_events = false;  // nothing may be fetched: the batch has it all
  std::string join = rig.remote_pdu(kCarol, "m.room.member", kCarol, R"({"membership":"join"})");
  // The join's auth events (create where the version lists it, power levels, join rules) and
  // carol's membership as the batch has it.
  std::vector<std::string> auth;
  auto join_doc = json::parse_trusted(join);
  for (const auto& id : join_doc["auth_events"].GetArray()) {
    auth.emplace_back(id.GetString());
  }
  auth.push_back(rig.id_of(join));
  std::string rename =
      rig.remote_pdu(kCarol, "m.room.member", kCarol, R"({"membership":"join","displayname":"C"})",
                     {rig.id_of(join)}, remote_key(), auth);
  std::erase(auth, rig.current("m.room.join_rules"));
  auth.back() = rig.id_of(rename);
  std::string message = rig.remote_pdu(kCarol, "m.room.message", std::nullopt, R"({"body":"as C"})",
                                       {rig.id_of(rename)}, remote_key(), auth);
  uint64_t commits_before = rig.commits();

  auto out = rig.receive_all({join, rename, message});
  for (const auto& o : out) {
    BOOST_CHECK_MESSAGE(!o.error, o.error.value_or(""));
    BOOST_CHECK(o.stored == ReceivedEvent::Outcome::kAccepted);
  }
  BOOST_CHECK_EQUAL(rig.commits() - commits_before, 1u);
  BOOST_CHECK_EQUAL(rig.remote.missing_events_calls, 0);
  BOOST_CHECK(rig.remote.fetched.empty());
  auto timeline = rig.timeline();
  BOOST_REQUIRE_GE(timeline.size(), 3u);
  BOOST_CHECK((std::vector<std::string>(timeline.end() - 3, timeline.end()) ==
               std::vector<std::string>{rig.id_of(join), rig.id_of(rename), rig.id_of(message)}));
  BOOST_CHECK_EQUAL(rig.current("m.room.member", kCarol), rig.id_of(rename));
  BOOST_CHECK(rig.room().extremities == std::vector<std::string>{rig.id_of(message)});
  // The state before the message holds the rename: it was built on the earlier PDUs.
  auto before = rooms::state_before_event(*rig.store.read(),
                                          *rooms::find_room_version(rooms::kDefaultRoomVersion),
                                          {rig.id_of(rename)});
  BOOST_REQUIRE(before.ok());
  BOOST_CHECK_EQUAL(before->at({"m.room.member", kCarol}), rig.id_of(rename));
  BOOST_REQUIRE_EQUAL(rig.appended.size(), 4u);  // bob's join, then the three in order
  BOOST_CHECK_EQUAL(rig.appended[1]->event_id(), rig.id_of(join));
  BOOST_CHECK_EQUAL(rig.appended[3]->event_id(), rig.id_of(message));
}

// A rejected, a forged and a repeated PDU among good ones of the same room: each gets its own
// outcome and the good ones, one of them built on another, are stored.
BOOST_AUTO_TEST_CASE(bad_pdus_of_a_transaction_leave_the_good_ones_stored) {
  Rig rig;
  rig.create_room();
  rig.join_remote(kBob);
  std::string power_before = rig.current("m.room.power_levels");
  std::string first = rig.remote_pdu(kBob, "m.room.message", std::nullopt, R"({"body":"1"})");
  std::string grab = rig.remote_pdu(kBob, "m.room.power_levels", "",
                                    R"({"users":{"@bob:remote.test":100}})", {rig.id_of(first)});
  std::string forged = rig.remote_pdu(kBob, "m.room.message", std::nullopt, R"({"body":"f"})",
                                      {rig.id_of(first)}, forged_key());
  std::string second =
      rig.remote_pdu(kBob, "m.room.message", std::nullopt, R"({"body":"2"})", {rig.id_of(first)});
  auto out = rig.receive_all({first, grab, forged, second, first});
  BOOST_REQUIRE_EQUAL(out.size(), 5u);
  BOOST_CHECK(!out[0].error);
  BOOST_CHECK(out[0].stored == ReceivedEvent::Outcome::kAccepted);
  BOOST_REQUIRE(out[1].error);
  BOOST_CHECK_MESSAGE(out[1].error->find("Rejected") == 0, *out[1].error);
  BOOST_CHECK(out[1].stored == ReceivedEvent::Outcome::kRejected);
  BOOST_REQUIRE(out[2].error);
  BOOST_CHECK_MESSAGE(out[2].error->find("signature") != std::string::npos, *out[2].error);
  BOOST_CHECK(!out[2].stored);
  BOOST_CHECK_MESSAGE(!out[3].error, out[3].error.value_or(""));
  BOOST_CHECK(out[3].stored == ReceivedEvent::Outcome::kAccepted);
  BOOST_CHECK_EQUAL(out[4].event_id, rig.id_of(first));  // the copy shares the first's outcome
  BOOST_CHECK(!out[4].error);

  auto timeline = rig.timeline();
  BOOST_CHECK_EQUAL(std::count(timeline.begin(), timeline.end(), rig.id_of(first)), 1);
  BOOST_CHECK_EQUAL(timeline.back(), rig.id_of(second));
  BOOST_CHECK(!contains(timeline, rig.id_of(grab)));
  BOOST_CHECK(!contains(timeline, rig.id_of(forged)));
  auto txn = rig.store.read();
  BOOST_CHECK(rooms::rejected_event(*txn, rig.id_of(grab)));
  BOOST_CHECK(!rooms::get_event(*txn, rig.id_of(forged)));
  BOOST_CHECK_EQUAL(rig.current("m.room.power_levels"), power_before);
  BOOST_CHECK(rig.room().extremities == std::vector<std::string>{rig.id_of(second)});
}

// PDUs of two rooms interleaved in one transaction (and one of a room this server does not
// hold): each room gets its own in order.
BOOST_AUTO_TEST_CASE(a_transaction_spanning_two_rooms_fills_both_in_order) {
  Rig rig;
  std::string room_a = rig.create_room();
  rig.join_remote(kBob);
  std::string a1 = rig.remote_pdu(kBob, "m.room.message", std::nullopt, R"({"body":"a1"})");
  std::string a2 =
      rig.remote_pdu(kBob, "m.room.message", std::nullopt, R"({"body":"a2"})", {rig.id_of(a1)});
  std::string room_b = rig.create_room();
  rig.join_remote(kBob);
  std::string b1 = rig.remote_pdu(kBob, "m.room.message", std::nullopt, R"({"body":"b1"})");
  std::string b2 =
      rig.remote_pdu(kBob, "m.room.message", std::nullopt, R"({"body":"b2"})", {rig.id_of(b1)});
  auto stray = json::parse_trusted(b1);
  stray["room_id"].SetString("!elsewhere:remote.test");

  auto out = rig.receive_all({a1, b1, json::to_string(stray), a2, b2});
  BOOST_REQUIRE_EQUAL(out.size(), 5u);
  for (size_t i : {0, 1, 3, 4}) {
    BOOST_CHECK_MESSAGE(!out[i].error, out[i].error.value_or(""));
    BOOST_CHECK(out[i].stored == ReceivedEvent::Outcome::kAccepted);
  }
  BOOST_REQUIRE(out[2].error);
  BOOST_CHECK_MESSAGE(out[2].error->find("not in room") != std::string::npos, *out[2].error);

  for (const auto& [room, first, second] :
       {std::tuple{room_a, a1, a2}, std::tuple{room_b, b1, b2}}) {
    rig.room_id = room;
    auto timeline = rig.timeline();
    BOOST_REQUIRE_GE(timeline.size(), 2u);
    BOOST_CHECK((std::vector<std::string>(timeline.end() - 2, timeline.end()) ==
                 std::vector<std::string>{rig.id_of(first), rig.id_of(second)}));
    BOOST_CHECK(rig.room().extremities == std::vector<std::string>{rig.id_of(second)});
  }
}

// A PDU whose prev event is neither stored nor in the batch has its gap filled, after the
// PDUs before it were committed; the ones after it still go in.
BOOST_AUTO_TEST_CASE(a_gap_in_the_middle_of_a_transaction_is_filled_in_order) {
  Rig rig;
  rig.create_room();
  rig.join_remote(kBob);
  std::string m1 = rig.remote_pdu(kBob, "m.room.message", std::nullopt, R"({"body":"1"})");
  std::string unsent =
      rig.remote_pdu(kBob, "m.room.message", std::nullopt, R"({"body":"u"})", {rig.id_of(m1)});
  std::string m3 =
      rig.remote_pdu(kBob, "m.room.message", std::nullopt, R"({"body":"3"})", {rig.id_of(unsent)});
  std::string m4 =
      rig.remote_pdu(kBob, "m.room.message", std::nullopt, R"({"body":"4"})", {rig.id_of(m3)});
  for (const auto& pdu : {m1, unsent, m3}) rig.remote.events[rig.id_of(pdu)] = pdu;

  auto out = rig.receive_all({m1, m3, m4});
  for (const auto& o : out) BOOST_CHECK_MESSAGE(!o.error, o.error.value_or(""));
  BOOST_CHECK_EQUAL(rig.remote.missing_events_calls, 1);
  auto timeline = rig.timeline();
  BOOST_REQUIRE_GE(timeline.size(), 4u);
  BOOST_CHECK(
      (std::vector<std::string>(timeline.end() - 4, timeline.end()) ==
       std::vector<std::string>{rig.id_of(m1), rig.id_of(unsent), rig.id_of(m3), rig.id_of(m4)}));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::federation
