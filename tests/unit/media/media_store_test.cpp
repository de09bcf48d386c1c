#include "homeserver/media/media_store.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "tests/unit/support/test_store.h"

namespace haven::media {

namespace {

namespace fs = std::filesystem;

constexpr char kShaOfAbc[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr char kShaOfEmpty[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// A media store in a fresh temporary directory, removed afterwards.
class TempMediaStore {
 public:
  TempMediaStore() {
    std::string tmpl = (fs::temp_directory_path() / "haven-media-XXXXXX").string();
    BOOST_REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    dir_ = tmpl;
    store_ = std::make_unique<MediaStore>(dir_ + "/media");
    BOOST_REQUIRE(store_->init().ok());
  }
  ~TempMediaStore() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  const MediaStore& store() const { return *store_; }

  // Regular files under the store outside tmp/: the blobs.
  std::vector<fs::path> blobs() const {
    std::vector<fs::path> out;
    for (auto& e : fs::recursive_directory_iterator(store_->root())) {
      if (e.is_regular_file() && e.path().parent_path() != fs::path(store_->root()) / "tmp") {
        out.push_back(e.path());
      }
    }
    return out;
  }
  size_t temp_files() const {
    auto it = fs::directory_iterator(store_->root() + "/tmp");
    return static_cast<size_t>(std::distance(it, fs::directory_iterator()));
  }

 private:
  std::string dir_;
  std::unique_ptr<MediaStore> store_;
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

MediaRecord reservation(const std::string& user, int64_t expires_at) {
  MediaRecord r;
  r.media_id = new_media_id();
  r.uploader = user;
  r.created_ts = 1;
  r.unused_expires_at = expires_at;
  return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(media_ids)

BOOST_AUTO_TEST_CASE(new_ids_are_valid_and_distinct) {
  std::string a = new_media_id(), b = new_media_id();
  BOOST_TEST(a.size() == kMediaIdLength);
  BOOST_TEST(is_valid_media_id(a));
  BOOST_TEST(is_valid_media_id(b));
  BOOST_TEST(a != b);
}

BOOST_AUTO_TEST_CASE(ids_are_one_to_255_alphanumerics) {
  BOOST_TEST(is_valid_media_id("a"));
  BOOST_TEST(is_valid_media_id("AbC019xyz"));
  BOOST_TEST(is_valid_media_id(std::string(kMaxMediaIdLength, 'z')));
  BOOST_TEST(!is_valid_media_id(std::string(kMaxMediaIdLength + 1, 'z')));
  BOOST_TEST(!is_valid_media_id(""));
}

BOOST_AUTO_TEST_CASE(local_media_ids_come_only_from_this_servers_mxc_uris) {
  BOOST_TEST(local_media_id("mxc://hs.example/AbC019", "hs.example").value_or("") == "AbC019");
  BOOST_TEST(local_media_id("mxc://hs.example:8448/x1", "hs.example:8448").value_or("") == "x1");
  for (std::string bad : {"mxc://other.example/AbC", "mxc://hs.example.evil/AbC",
                          "mxc://hs.example/", "mxc://hs.example/../etc", "mxc://hs.example",
                          "https://hs.example/AbC", "mxc:/hs.example/AbC", ""}) {
    BOOST_TEST(!local_media_id(bad, "hs.example").has_value(), bad);
  }
}

BOOST_AUTO_TEST_CASE(traversal_and_odd_bytes_are_not_ids) {
  for (std::string bad :
       {"..",     ".",     "../etc/passwd",    "a/../b", "/",   "a/b", "/abs", "a\\b",
        "%2e%2e", "%2F",   "..%2F..%2Fetc",    "a.b",    "a b", "a-b", "a_b",  "a~b",
        "a%00b",  "Grüße", "\xc0\xae\xc0\xae", "a\nb",   "a\tb"}) {
    BOOST_TEST(!is_valid_media_id(bad), bad);
  }
  BOOST_TEST(!is_valid_media_id(std::string("abc\0def", 7)));
  BOOST_TEST(!is_valid_media_id(std::string("\0", 1)));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(blob_store)

BOOST_AUTO_TEST_CASE(a_blob_is_named_by_its_sha256) {
  TempMediaStore t;
  auto blob = t.store().write_blob("abc");
  BOOST_REQUIRE(blob.ok());
  BOOST_TEST(blob->sha256 == kShaOfAbc);
  BOOST_TEST(blob->size == 3u);
  auto path = t.store().blob_path(kShaOfAbc);
  BOOST_REQUIRE(path.has_value());
  BOOST_TEST(*path == t.store().root() + "/ba/78/" + kShaOfAbc);
  BOOST_TEST(read_file(*path) == "abc");
  BOOST_TEST(t.temp_files() == 0u);
}

BOOST_AUTO_TEST_CASE(same_bytes_are_stored_once) {
  TempMediaStore t;
  auto first = t.store().write_blob("abc");
  auto second = t.store().write_blob("abc");
  auto other = t.store().write_blob("abd");
  BOOST_REQUIRE(first.ok() && second.ok() && other.ok());
  BOOST_TEST(first->sha256 == second->sha256);
  BOOST_TEST(first->sha256 != other->sha256);
  BOOST_TEST(t.blobs().size() == 2u);
  BOOST_TEST(t.temp_files() == 0u);
}

BOOST_AUTO_TEST_CASE(a_writer_streams_into_a_temp_file_and_renames_on_commit) {
  TempMediaStore t;
  BlobWriter writer(t.store());
  BOOST_REQUIRE(writer.append("a").ok());
  BOOST_REQUIRE(writer.append("").ok());
  BOOST_REQUIRE(writer.append("bc").ok());
  // Until the commit the bytes are only in tmp/: no reader can see half a file.
  BOOST_TEST(t.temp_files() == 1u);
  BOOST_TEST(t.blobs().empty());
  BOOST_TEST(t.store().open_blob(kShaOfAbc) == -1);
  auto blob = writer.commit();
  BOOST_REQUIRE(blob.ok());
  BOOST_TEST(blob->sha256 == kShaOfAbc);
  BOOST_TEST(t.temp_files() == 0u);
  BOOST_TEST(t.blobs().size() == 1u);
  int fd = t.store().open_blob(kShaOfAbc);
  BOOST_TEST(fd >= 0);
  if (fd >= 0) ::close(fd);
}

BOOST_AUTO_TEST_CASE(an_abandoned_writer_leaves_nothing) {
  TempMediaStore t;
  {
    BlobWriter writer(t.store());
    BOOST_REQUIRE(writer.append("half an upload").ok());
    BOOST_TEST(t.temp_files() == 1u);
  }
  BOOST_TEST(t.temp_files() == 0u);
  BOOST_TEST(t.blobs().empty());
}

// A file written elsewhere (a spooled upload) becomes a blob by a rename, hashed in chunks.
BOOST_AUTO_TEST_CASE(a_temp_file_is_stored_under_its_sha256) {
  TempMediaStore t;
  std::string path = t.store().tmp_dir() + "/upload-test";
  // Larger than one read chunk, and not a multiple of it.
  std::string bytes(200 * 1024 + 3, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7 % 251);
  { std::ofstream(path, std::ios::binary) << bytes; }
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  BOOST_REQUIRE(fd >= 0);
  auto expected = t.store().write_blob(bytes);  // the same bytes through the writer
  BOOST_REQUIRE(expected.ok());
  auto blob = t.store().store_temp_file(fd, path);
  ::close(fd);
  BOOST_REQUIRE(blob.ok());
  BOOST_TEST(blob->sha256 == expected->sha256);
  BOOST_TEST(blob->size == bytes.size());
  BOOST_TEST(!fs::exists(path));
  BOOST_TEST(t.temp_files() == 0u);
  BOOST_TEST(read_file(*t.store().blob_path(blob->sha256)) == bytes);
}

BOOST_AUTO_TEST_CASE(an_empty_temp_file_is_the_empty_blob) {
  TempMediaStore t;
  std::string path = t.store().tmp_dir() + "/upload-empty";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  BOOST_REQUIRE(fd >= 0);
  auto blob = t.store().store_temp_file(fd, path);
  ::close(fd);
  BOOST_REQUIRE(blob.ok());
  BOOST_TEST(blob->sha256 == kShaOfEmpty);
  BOOST_TEST(t.temp_files() == 0u);
}

BOOST_AUTO_TEST_CASE(init_removes_temp_files_a_crash_left) {
  TempMediaStore t;
  { std::ofstream(t.store().tmp_dir() + "/upload-abc123") << "half"; }
  { std::ofstream(t.store().tmp_dir() + "/blob-xyz") << "half"; }
  auto kept = t.store().write_blob("kept");
  BOOST_REQUIRE(kept.ok());
  BOOST_TEST(t.temp_files() == 2u);
  BOOST_REQUIRE(t.store().init().ok());
  BOOST_TEST(t.temp_files() == 0u);
  BOOST_TEST(t.blobs().size() == 1u);  // blobs are untouched
}

BOOST_AUTO_TEST_CASE(an_empty_blob_is_a_blob) {
  TempMediaStore t;
  auto blob = t.store().write_blob("");
  BOOST_REQUIRE(blob.ok());
  BOOST_TEST(blob->sha256 == kShaOfEmpty);
  BOOST_TEST(blob->size == 0u);
  BOOST_TEST(read_file(*t.store().blob_path(kShaOfEmpty)) == "");
}

BOOST_AUTO_TEST_CASE(blob_paths_exist_only_for_lowercase_sha256_hex) {
  TempMediaStore t;
  std::string upper = kShaOfAbc;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (std::string bad :
       {std::string(), std::string("../../etc/passwd"), upper, std::string(kShaOfAbc).substr(1),
        std::string(kShaOfAbc) + "0", std::string(64, 'g'), "../" + std::string(61, 'a'),
        std::string(kShaOfAbc).replace(10, 1, "/")}) {
    BOOST_TEST(!t.store().blob_path(bad).has_value(), bad);
    BOOST_TEST(t.store().open_blob(bad) == -1);
  }
  BOOST_TEST(t.store().open_blob(kShaOfEmpty) == -1);  // well-formed, not stored
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(media_metadata)

BOOST_AUTO_TEST_CASE(records_round_trip) {
  test::TestStore db;
  MediaRecord r;
  r.media_id = new_media_id();
  r.sha256 = kShaOfAbc;
  r.content_type = "text/plain; charset=utf-8";
  r.size = 3;
  r.upload_name = "Grüße.txt";
  r.uploader = "@alice:a.org";
  r.created_ts = 1234;
  r.restricted = true;
  db.write([&](storage::WriteTxn& txn) { return put_media(txn, r); });
  auto txn = db.read();
  auto got = get_media(*txn, r.media_id);
  BOOST_REQUIRE(got.has_value());
  BOOST_TEST(got->sha256 == r.sha256);
  BOOST_TEST(got->content_type == r.content_type);
  BOOST_TEST(got->size == 3u);
  BOOST_TEST(got->upload_name == r.upload_name);
  BOOST_TEST(got->uploader == r.uploader);
  BOOST_TEST(got->created_ts == 1234);
  BOOST_TEST(got->restricted);
  BOOST_TEST(!got->pending());
  BOOST_TEST(!get_media(*txn, "unknown").has_value());
  BOOST_TEST(!get_media(*txn, "../" + r.media_id).has_value());
}

BOOST_AUTO_TEST_CASE(invalid_ids_are_never_stored) {
  test::TestStore db;
  MediaRecord r = reservation("@alice:a.org", 100);
  r.media_id = "../escape";
  auto s = db.store().run([&](storage::WriteTxn& txn) { return put_media(txn, r); });
  BOOST_TEST(!s.ok());
}

BOOST_AUTO_TEST_CASE(reservations_count_until_they_expire_or_are_uploaded) {
  test::TestStore db;
  MediaRecord early = reservation("@alice:a.org", 100);
  MediaRecord late = reservation("@alice:a.org", 300);
  MediaRecord bobs = reservation("@bob:a.org", 300);
  db.write([&](storage::WriteTxn& txn) {
    for (auto* r : {&early, &late, &bobs}) {
      auto s = put_media(txn, *r);
      if (!s.ok()) return s;
    }
    return storage::Status::ok_status();
  });
  BOOST_TEST(count_pending(*db.read(), "@alice:a.org", 50) == 2u);
  BOOST_TEST(count_pending(*db.read(), "@alice:a.org", 200) == 1u);
  BOOST_TEST(count_pending(*db.read(), "@bob:a.org", 200) == 1u);

  late.sha256 = kShaOfAbc;  // uploaded: no longer pending
  db.write([&](storage::WriteTxn& txn) { return put_media(txn, late); });
  BOOST_TEST(count_pending(*db.read(), "@alice:a.org", 50) == 1u);

  db.write([&](storage::WriteTxn& txn) { return purge_expired(txn, "@alice:a.org", 200); });
  auto txn = db.read();
  BOOST_TEST(!get_media(*txn, early.media_id).has_value());
  BOOST_TEST(get_media(*txn, late.media_id).has_value());
  BOOST_TEST(get_media(*txn, bobs.media_id).has_value());
}

BOOST_AUTO_TEST_CASE(thumbnails_are_keyed_by_size_and_method) {
  test::TestStore db;
  ThumbnailRecord t{kShaOfAbc, "image/png", 3, 32, 20};
  db.write(
      [&](storage::WriteTxn& txn) { return put_thumbnail(txn, "media1", 32, 32, "scale", t); });
  auto txn = db.read();
  auto got = get_thumbnail(*txn, "media1", 32, 32, "scale");
  BOOST_REQUIRE(got.has_value());
  BOOST_TEST(got->width == 32);
  BOOST_TEST(got->height == 20);
  BOOST_TEST(!get_thumbnail(*txn, "media1", 32, 32, "crop").has_value());
  BOOST_TEST(!get_thumbnail(*txn, "media1", 32, 33, "scale").has_value());
  BOOST_TEST(!get_thumbnail(*txn, "media2", 32, 32, "scale").has_value());
  BOOST_TEST(count_thumbnails(*txn, "media1") == 1u);
  BOOST_TEST(count_thumbnails(*txn, "media") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::media
