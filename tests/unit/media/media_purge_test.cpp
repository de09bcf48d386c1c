// Unit tests of homeserver/media/media_purge: the media a purged room's events named or that was
// tied to it go (record, thumbnails, then files) unless another room names them or another
// record uses the same file.
#include "homeserver/media/media_purge.h"

#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <optional>
#include <set>

#include "crypto/ed25519.h"
#include "homeserver/base/json.h"
#include "homeserver/rooms/create_room.h"
#include "homeserver/rooms/event_store.h"
#include "homeserver/rooms/room_service.h"
#include "storage/keys.h"
#include "tests/unit/support/test_store.h"

namespace haven::media {
namespace {

using storage::KeyBuilder;
using storage::Table;

const std::string kAlice = "@alice:x";

struct World {
  haven::test::TestStore db;
  crypto::SigningKey key = crypto::SigningKey::generate("t");
  rooms::LocalServer server{"x", &key, nullptr};
  MediaStore files{db.dir() + "/media"};

  World() { BOOST_REQUIRE(files.init().ok()); }

  std::string create_room() {
    std::string id;
    db.write([&](storage::WriteTxn& txn) {
      rapidjson::Document body;
      body.Parse(R"({"preset":"private_chat"})");
      auto req = rooms::parse_create_room_request(body);
      BOOST_REQUIRE(req.ok());
      auto sent =
          rooms::create_room(txn, server, *req, kAlice, *rooms::find_room_version("11"), {});
      BOOST_REQUIRE(sent.ok());
      id = sent->front().event->room_id();
      return storage::Status::ok_status();
    });
    return id;
  }

  void send(const std::string& room, const std::string& type, const std::string& content_json,
            std::optional<std::string> state_key = std::nullopt) {
    db.write([&](storage::WriteTxn& txn) {
      rooms::EventDraft d;
      d.room_id = room;
      d.sender = kAlice;
      d.type = type;
      d.state_key = std::move(state_key);
      rapidjson::Document content;
      content.Parse(content_json.c_str());
      BOOST_REQUIRE(content.IsObject());
      d.content.CopyFrom(content, d.content.GetAllocator());
      BOOST_REQUIRE(rooms::send_event(txn, server, std::move(d)).ok());
      return storage::Status::ok_status();
    });
  }

  void send_file(const std::string& room, const std::string& mxc) {
    send(room, "m.room.message", R"({"msgtype":"m.file","body":"f","url":")" + mxc + R"("})");
  }

  // What a client sends in an encrypted room: the mxc URI is inside the ciphertext.
  void send_encrypted(const std::string& room) {
    send(room, "m.room.encrypted",
         R"({"algorithm":"m.megolm.v1.aes-sha2","sender_key":"k","device_id":"D",)"
         R"("session_id":"s","ciphertext":"AwgAEpAB0hVmVeEA2uHqBVmxZvGOzHA"})");
  }

  // Ties the media to the room as a guest's upload does (client/media.cpp).
  void tie(const std::string& room, const std::string& media_id) {
    db.write(
        [&](storage::WriteTxn& txn) { return rooms::link_room_media(txn, room, "x", media_id); });
  }

  // A stored file and a media record (and optionally a thumbnail) naming it.
  std::string upload(const std::string& media_id, const std::string& bytes,
                     const std::string& thumbnail_bytes = {}) {
    auto blob = files.write_blob(bytes);
    BOOST_REQUIRE(blob.ok());
    MediaRecord r;
    r.media_id = media_id;
    r.sha256 = blob->sha256;
    r.size = bytes.size();
    r.uploader = kAlice;
    db.write([&](storage::WriteTxn& txn) { return put_media(txn, r); });
    if (!thumbnail_bytes.empty()) {
      auto thumb = files.write_blob(thumbnail_bytes);
      BOOST_REQUIRE(thumb.ok());
      ThumbnailRecord t{thumb->sha256, "image/png", thumbnail_bytes.size(), 32, 32};
      db.write(
          [&](storage::WriteTxn& txn) { return put_thumbnail(txn, media_id, 32, 32, "scale", t); });
    }
    return blob->sha256;
  }

  MediaPurgeStep purge(const std::string& room, size_t budget,
                       const std::set<std::string>& kept = {}) {
    MediaPurgeStep step;
    db.write([&](storage::WriteTxn& txn) {
      return purge_room_media_step(txn, room, "x", budget, kept, &step);
    });
    return step;
  }
};

BOOST_AUTO_TEST_SUITE(media_purge)

BOOST_AUTO_TEST_CASE(only_what_no_other_room_or_record_uses_goes) {
  World w;
  std::string doomed = w.create_room(), kept = w.create_room();
  std::string only = w.upload("onlyHere", "bytes only the doomed room used", "thumbnail bytes");
  std::string shared = w.upload("shared", "bytes both rooms used");
  std::string twin = w.upload("twin", "same bytes as another id");
  w.upload("twinCopy", "same bytes as another id");  // same file, not named by any room
  w.send_file(doomed, "mxc://x/onlyHere");
  w.send_file(doomed, "mxc://x/shared");
  w.send_file(doomed, "mxc://x/twin");
  w.send_file(doomed, "mxc://other.server/remote1");
  w.send_file(kept, "mxc://x/shared");

  MediaPurgeStep step = w.purge(doomed, 100);
  BOOST_TEST(step.done);
  auto txn = w.db.read();
  BOOST_TEST(!get_media(*txn, "onlyHere"));
  BOOST_TEST(!get_media(*txn, "twin"));
  BOOST_TEST(get_media(*txn, "twinCopy").has_value());
  BOOST_TEST(get_media(*txn, "shared").has_value());
  BOOST_TEST(count_thumbnails(*txn, "onlyHere") == 0u);
  // The file of "onlyHere" and its thumbnail's file; not the twin's, another record uses it.
  std::set<std::string> unused(step.unused.begin(), step.unused.end());
  BOOST_TEST(unused.size() == 2u);
  BOOST_TEST(unused.count(only) == 1u);
  BOOST_TEST(!unused.count(twin));
  BOOST_TEST(!unused.count(shared));
  size_t doomed_rows = 0, kept_rows = 0;
  txn->scan(Table::kRoomMedia, {}, {}, storage::Direction::kForward,
            [&](std::string_view key, std::string_view) {
              (key.starts_with(KeyBuilder().str(doomed).build()) ? doomed_rows : kept_rows)++;
              return true;
            });
  BOOST_TEST(doomed_rows == 0u);
  BOOST_TEST(kept_rows == 1u);
  txn.reset();

  BOOST_REQUIRE(remove_unused_blobs(w.files, step.unused).ok());
  BOOST_TEST(w.files.open_blob(only) == -1);
  int fd = w.files.open_blob(shared);
  BOOST_TEST(fd >= 0);
  if (fd >= 0) ::close(fd);
  BOOST_TEST(remove_unused_blobs(w.files, step.unused).ok());  // already gone: fine
}

// In an encrypted room the server reads the mxc URIs of state (room avatar, a member's per-room
// avatar) and of the uploads tied to the room, never those inside ciphertext.
BOOST_AUTO_TEST_CASE(encrypted_room_loses_its_avatars_and_tied_uploads_not_others) {
  World w;
  std::string doomed = w.create_room(), kept = w.create_room();
  w.send(doomed, "m.room.encryption", R"({"algorithm":"m.megolm.v1.aes-sha2"})", "");
  w.upload("roomAvatar", "room avatar bytes");
  w.upload("memberAvatar", "member avatar bytes");
  w.upload("guestUpload", "guest ciphertext bytes");
  w.upload("sharedUpload", "ciphertext both rooms got");
  w.upload("untied", "ciphertext of an ordinary token");
  w.send(doomed, "m.room.avatar", R"({"url":"mxc://x/roomAvatar"})", "");
  w.send(doomed, "m.room.member", R"({"membership":"join","avatar_url":"mxc://x/memberAvatar"})",
         kAlice);
  w.send_encrypted(doomed);
  w.tie(doomed, "guestUpload");
  w.tie(doomed, "sharedUpload");
  w.tie(kept, "sharedUpload");

  MediaPurgeStep step = w.purge(doomed, 100);
  BOOST_TEST(step.done);
  BOOST_TEST(step.unused.size() == 3u);
  auto txn = w.db.read();
  BOOST_TEST(!get_media(*txn, "roomAvatar"));
  BOOST_TEST(!get_media(*txn, "memberAvatar"));
  BOOST_TEST(!get_media(*txn, "guestUpload"));
  BOOST_TEST(get_media(*txn, "sharedUpload").has_value());
  // Named only inside ciphertext: the server cannot know it was this room's.
  BOOST_TEST(get_media(*txn, "untied").has_value());
}

// A profile's avatar reaches the room through the member event; the purge leaves it.
BOOST_AUTO_TEST_CASE(kept_media_stays_though_only_the_room_named_it) {
  World w;
  std::string room = w.create_room();
  std::string avatar = w.upload("profileAvatar", "profile avatar bytes");
  w.upload("roomOnly", "bytes only the room used");
  w.send(room, "m.room.member", R"({"membership":"join","avatar_url":"mxc://x/profileAvatar"})",
         kAlice);
  w.send_file(room, "mxc://x/roomOnly");

  MediaPurgeStep step = w.purge(room, 100, {"profileAvatar"});
  BOOST_TEST(step.done);
  BOOST_TEST(step.unused.size() == 1u);
  BOOST_TEST(std::count(step.unused.begin(), step.unused.end(), avatar) == 0);
  auto txn = w.db.read();
  BOOST_TEST(get_media(*txn, "profileAvatar").has_value());
  BOOST_TEST(!get_media(*txn, "roomOnly"));
  size_t rows = 0;
  txn->scan(Table::kRoomMedia, {}, {}, storage::Direction::kForward,
            [&](std::string_view, std::string_view) { return ++rows, true; });
  BOOST_TEST(rows == 0u);
}

BOOST_AUTO_TEST_CASE(a_small_budget_takes_several_steps) {
  World w;
  std::string room = w.create_room();
  for (int i = 0; i < 5; ++i) {
    std::string id = "m" + std::to_string(i);
    w.upload(id, "file " + id);
    w.send_file(room, "mxc://x/" + id);
  }
  int steps = 0;
  size_t unused = 0;
  for (bool done = false; !done && steps < 20; ++steps) {
    auto step = w.purge(room, 2);
    unused += step.unused.size();
    done = step.done;
  }
  BOOST_TEST(steps == 3);
  BOOST_TEST(unused == 5u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace haven::media
