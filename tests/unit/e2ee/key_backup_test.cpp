// Unit tests of homeserver/e2ee/key_backup: version numbering, update and deletion rules, the
// spec's rule for which copy of a session key is kept, counts and etags, version checks on
// upload, and users kept apart.
#include "homeserver/e2ee/key_backup.h"

#include <boost/test/unit_test.hpp>

#include "homeserver/base/json.h"
#include "tests/unit/support/test_store.h"

namespace haven::e2ee {
namespace {

using test::TestStore;

const std::string kAlg(kMegolmBackupV1);
const std::string kAuth = R"({"public_key":"abc"})";

// Runs `fn` in its own job, rolled back on an error as the server's jobs are.
template <typename T>
Result<T> job(TestStore& db, const std::function<Result<T>(storage::WriteTxn&)>& fn) {
  std::optional<Result<T>> out;
  db.store().run([&](storage::WriteTxn& txn) {
    out.emplace(fn(txn));
    return out->ok() ? storage::Status::ok_status() : storage::Status::aborted("error");
  });
  BOOST_REQUIRE(out.has_value());
  return std::move(*out);
}

uint64_t create(TestStore& db, const std::string& user = "@a:x") {
  auto v = job<BackupVersion>(
      db, [&](storage::WriteTxn& txn) { return create_backup(txn, user, kAlg, kAuth); });
  BOOST_REQUIRE(v.ok());
  return v->version;
}

Status remove(TestStore& db, uint64_t version, const std::string& user = "@a:x") {
  auto r = job<bool>(db, [&](storage::WriteTxn& txn) -> Result<bool> {
    HAVEN_TRY(delete_backup(txn, user, version));
    return true;
  });
  if (!r.ok()) return r.error();
  return {};
}

RoomKey key(int64_t first, int64_t forwarded, bool verified, const std::string& marker = "m") {
  return RoomKey{first, forwarded, verified, "{\"ciphertext\":\"" + marker + "\"}"};
}

Result<BackupCounts> put(TestStore& db, uint64_t version, std::vector<RoomKeyUpload> keys,
                         int64_t max = 1000, const std::string& user = "@a:x") {
  return job<BackupCounts>(
      db, [&](storage::WriteTxn& txn) { return put_room_keys(txn, user, version, keys, max); });
}

// The ciphertext marker of the stored session, or "" when there is none.
std::string stored_marker(TestStore& db, uint64_t version, const std::string& room,
                          const std::string& session) {
  auto txn = db.read();
  auto keys = get_room_keys(*txn, "@a:x", version, room, session);
  BOOST_REQUIRE(keys.ok());
  if (keys->empty()) return "";
  auto k = RoomKey::from_json(keys->front().json);
  BOOST_REQUIRE(k);
  auto data = json::parse_trusted(k->session_data_json);
  return json::get_string(data, "ciphertext");
}

BOOST_AUTO_TEST_CASE(versions_parse_only_in_their_canonical_form) {
  BOOST_TEST(parse_version("1").value_or(0) == 1u);
  BOOST_TEST(parse_version("42").value_or(0) == 42u);
  BOOST_TEST(!parse_version(""));
  BOOST_TEST(!parse_version("0"));
  BOOST_TEST(!parse_version("01"));
  BOOST_TEST(!parse_version("-1"));
  BOOST_TEST(!parse_version("+1"));
  BOOST_TEST(!parse_version("1a"));
  BOOST_TEST(!parse_version("99999999999999999999"));
  BOOST_TEST(version_string(17) == "17");
}

BOOST_AUTO_TEST_CASE(versions_count_up_per_user_and_are_never_reused) {
  TestStore db;
  BOOST_TEST(create(db) == 1u);
  BOOST_TEST(create(db) == 2u);
  BOOST_TEST(create(db, "@b:x") == 1u);
  BOOST_TEST(remove(db, 2).ok());
  BOOST_TEST(create(db) == 3u);  // 2 was deleted but stays taken
  auto txn = db.read();
  BOOST_TEST(latest_backup(*txn, "@a:x")->version == 3u);
  BOOST_TEST(!get_backup(*txn, "@a:x", 2));
  BOOST_TEST(get_backup(*txn, "@a:x", 1)->auth_data_json == kAuth);
  BOOST_TEST(get_backup(*txn, "@a:x", 1)->algorithm == kAlg);
}

BOOST_AUTO_TEST_CASE(latest_skips_deleted_versions_and_deleting_again_succeeds) {
  TestStore db;
  create(db);
  create(db);
  BOOST_TEST(remove(db, 2).ok());
  {
    auto txn = db.read();
    BOOST_TEST(latest_backup(*txn, "@a:x")->version == 1u);
  }
  BOOST_TEST(remove(db, 2).ok());
  BOOST_TEST(remove(db, 1).ok());
  auto missing = remove(db, 9);
  BOOST_REQUIRE(!missing.ok());
  BOOST_TEST(missing.error().errcode == "M_NOT_FOUND");
  auto txn = db.read();
  BOOST_TEST(!latest_backup(*txn, "@a:x"));
  BOOST_TEST(!latest_backup(*txn, "@nobody:x"));
}

BOOST_AUTO_TEST_CASE(updating_keeps_the_algorithm_and_replaces_auth_data) {
  TestStore db;
  uint64_t v = create(db);
  auto update = [&](const std::string& alg, uint64_t version) {
    return job<bool>(db, [&](storage::WriteTxn& txn) -> Result<bool> {
      HAVEN_TRY(update_backup(txn, "@a:x", version, alg, R"({"public_key":"new"})"));
      return true;
    });
  };
  auto wrong = update("m.other", v);
  BOOST_REQUIRE(!wrong.ok());
  BOOST_TEST(wrong.error().errcode == "M_INVALID_PARAM");
  auto unknown = update(kAlg, v + 1);
  BOOST_REQUIRE(!unknown.ok());
  BOOST_TEST(unknown.error().errcode == "M_NOT_FOUND");
  BOOST_TEST(update(kAlg, v).ok());
  auto txn = db.read();
  BOOST_TEST(get_backup(*txn, "@a:x", v)->auth_data_json == R"({"public_key":"new"})");
}

BOOST_AUTO_TEST_CASE(the_spec_rule_decides_which_copy_of_a_session_is_kept) {
  // A verified copy beats an unverified one whatever its indexes.
  BOOST_TEST(replaces(key(9, 9, true), key(0, 0, false)));
  BOOST_TEST(!replaces(key(0, 0, false), key(9, 9, true)));
  // Equally verified: the lower first_message_index wins, whatever the forwarded_count.
  BOOST_TEST(replaces(key(1, 9, false), key(2, 0, false)));
  BOOST_TEST(!replaces(key(2, 0, true), key(1, 9, true)));
  // Then the lower forwarded_count.
  BOOST_TEST(replaces(key(1, 0, true), key(1, 1, true)));
  BOOST_TEST(!replaces(key(1, 1, true), key(1, 0, true)));
  // A tie keeps what is held.
  BOOST_TEST(!replaces(key(1, 1, true), key(1, 1, true)));
}

BOOST_AUTO_TEST_CASE(uploads_keep_the_better_copy_and_count_and_etag_follow_changes) {
  TestStore db;
  uint64_t v = create(db);
  auto first = put(
      db, v, {{"!r:x", "s1", key(5, 1, false, "one")}, {"!r:x", "s2", key(0, 0, false, "two")}});
  BOOST_REQUIRE(first.ok());
  BOOST_TEST(first->count == 2);
  // A worse copy changes nothing, not even the etag.
  auto worse = put(db, v, {{"!r:x", "s1", key(6, 0, false, "worse")}});
  BOOST_REQUIRE(worse.ok());
  BOOST_TEST(worse->count == 2);
  BOOST_TEST(worse->etag == first->etag);
  BOOST_TEST(stored_marker(db, v, "!r:x", "s1") == "one");
  // A better one replaces it: same count, new etag.
  auto better = put(db, v, {{"!r:x", "s1", key(5, 1, true, "better")}});
  BOOST_REQUIRE(better.ok());
  BOOST_TEST(better->count == 2);
  BOOST_TEST(better->etag != first->etag);
  BOOST_TEST(stored_marker(db, v, "!r:x", "s1") == "better");
  auto txn = db.read();
  auto info = get_backup(*txn, "@a:x", v);
  BOOST_TEST(info->count == 2);
  BOOST_TEST(std::to_string(info->etag) == better->etag);
}

BOOST_AUTO_TEST_CASE(uploads_go_only_to_the_latest_live_version) {
  TestStore db;
  uint64_t old_version = create(db);
  uint64_t current = create(db);
  auto stale = put(db, old_version, {{"!r:x", "s", key(0, 0, false)}});
  BOOST_REQUIRE(!stale.ok());
  BOOST_TEST(stale.error().status == 403);
  BOOST_TEST(stale.error().errcode == "M_WRONG_ROOM_KEYS_VERSION");
  BOOST_TEST(stale.error().extra_json == "\"current_version\":\"" + std::to_string(current) + "\"");
  auto unknown = put(db, current + 5, {{"!r:x", "s", key(0, 0, false)}});
  BOOST_REQUIRE(!unknown.ok());
  BOOST_TEST(unknown.error().errcode == "M_NOT_FOUND");
  BOOST_TEST(remove(db, current).ok());
  auto deleted = put(db, current, {{"!r:x", "s", key(0, 0, false)}});
  BOOST_REQUIRE(!deleted.ok());
  BOOST_TEST(deleted.error().errcode == "M_NOT_FOUND");
  // With the newer one gone, the old version is the latest again.
  BOOST_TEST(put(db, old_version, {{"!r:x", "s", key(0, 0, false)}}).ok());
}

BOOST_AUTO_TEST_CASE(a_backup_over_its_key_limit_is_refused_whole) {
  TestStore db;
  uint64_t v = create(db);
  BOOST_REQUIRE(put(db, v, {{"!r:x", "s1", key(0, 0, false)}}, 2).ok());
  auto r = put(db, v, {{"!r:x", "s2", key(0, 0, false)}, {"!r:x", "s3", key(0, 0, false)}}, 2);
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().errcode == "M_TOO_LARGE");
  auto txn = db.read();
  BOOST_TEST(get_backup(*txn, "@a:x", v)->count == 1);
  BOOST_TEST(get_room_keys(*txn, "@a:x", v, std::nullopt, std::nullopt)->size() == 1u);
}

BOOST_AUTO_TEST_CASE(keys_are_read_and_deleted_by_session_room_or_whole_version) {
  TestStore db;
  uint64_t v = create(db);
  BOOST_REQUIRE(put(db, v,
                    {{"!r1:x", "a", key(0, 0, false)},
                     {"!r1:x", "b", key(0, 0, false)},
                     {"!r2:x", "a", key(0, 0, false)},
                     {"!r10:x", "c", key(0, 0, false)}})
                    .ok());
  auto del = [&](std::optional<std::string> room, std::optional<std::string> session) {
    return job<BackupCounts>(db, [&](storage::WriteTxn& txn) {
      return delete_room_keys(txn, "@a:x", v, room, session);
    });
  };
  {
    auto txn = db.read();
    auto all = get_room_keys(*txn, "@a:x", v, std::nullopt, std::nullopt);
    BOOST_REQUIRE(all.ok());
    BOOST_TEST(all->size() == 4u);
    // A room's keys are its own, not those of a room whose id it prefixes.
    BOOST_TEST(get_room_keys(*txn, "@a:x", v, std::string("!r1:x"), std::nullopt)->size() == 2u);
    BOOST_TEST(get_room_keys(*txn, "@a:x", v, std::string("!r1:x"), std::string("zz"))->empty());
    BOOST_TEST(get_room_keys(*txn, "@a:x", v + 1, std::nullopt, std::nullopt).error().errcode ==
               "M_NOT_FOUND");
  }
  auto one = del(std::string("!r1:x"), std::string("a"));
  BOOST_REQUIRE(one.ok());
  BOOST_TEST(one->count == 3);
  auto none = del(std::string("!r1:x"), std::string("a"));
  BOOST_TEST(none->count == 3);
  BOOST_TEST(none->etag == one->etag);  // nothing deleted: nothing changed
  BOOST_TEST(del(std::string("!r2:x"), std::nullopt)->count == 2);
  BOOST_TEST(del(std::nullopt, std::nullopt)->count == 0);
  auto txn = db.read();
  BOOST_TEST(get_room_keys(*txn, "@a:x", v, std::nullopt, std::nullopt)->empty());
}

BOOST_AUTO_TEST_CASE(deleting_a_version_deletes_its_keys_and_users_stay_apart) {
  TestStore db;
  uint64_t mine = create(db);
  uint64_t theirs = create(db, "@b:x");
  BOOST_REQUIRE(put(db, mine, {{"!r:x", "s", key(0, 0, false)}}).ok());
  BOOST_REQUIRE(put(db, theirs, {{"!r:x", "s", key(0, 0, false)}}, 1000, "@b:x").ok());
  BOOST_TEST(remove(db, mine).ok());
  auto txn = db.read();
  BOOST_TEST(get_room_keys(*txn, "@a:x", mine, std::nullopt, std::nullopt).error().errcode ==
             "M_NOT_FOUND");
  BOOST_TEST(get_room_keys(*txn, "@b:x", theirs, std::nullopt, std::nullopt)->size() == 1u);
  BOOST_TEST(get_backup(*txn, "@b:x", theirs)->count == 1);
}

}  // namespace
}  // namespace haven::e2ee
