#include <stdlib.h>
#include <vips/vips.h>

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>

#include "homeserver/media/thumbnail_request.h"
#include "homeserver/media/thumbnailer.h"

namespace haven::media {

namespace {

namespace fs = std::filesystem;

// Image files made with libvips in a fresh temporary directory, removed afterwards.
class ImageDir {
 public:
  ImageDir() {
    BOOST_REQUIRE(VIPS_INIT("media_test") == 0);
    std::string tmpl = (fs::temp_directory_path() / "haven-thumb-XXXXXX").string();
    BOOST_REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    dir_ = tmpl;
  }
  ~ImageDir() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // A `width` x `height` RGB image saved as `name` (.png or .jpg picks the format).
  std::string image(const std::string& name, int width, int height) {
    VipsImage* img = nullptr;
    BOOST_REQUIRE(vips_black(&img, width, height, "bands", 3, nullptr) == 0);
    std::string path = dir_ + "/" + name;
    int rc = vips_image_write_to_file(img, path.c_str(), nullptr);
    g_object_unref(img);
    BOOST_REQUIRE_MESSAGE(rc == 0, vips_error_buffer());
    return path;
  }

  std::string file(const std::string& name, const std::string& bytes) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

 private:
  std::string dir_;
};

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

uint32_t crc32(const std::string& bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char b : bytes) {
    crc ^= b;
    for (int i = 0; i < 8; ++i) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::string png_chunk(const std::string& type, const std::string& data) {
  return be32(static_cast<uint32_t>(data.size())) + type + data + be32(crc32(type + data));
}

// A well-formed PNG that claims `width` x `height` pixels but holds one empty IDAT: what a
// decompression bomb looks like to a reader of its header.
std::string png_claiming(uint32_t width, uint32_t height) {
  std::string ihdr = be32(width) + be32(height) + std::string("\x08\x02\x00\x00\x00", 5);
  std::string empty_zlib("\x78\x9c\x03\x00\x00\x00\x00\x01", 8);
  return "\x89PNG\r\n\x1a\n" + png_chunk("IHDR", ihdr) + png_chunk("IDAT", empty_zlib) +
         png_chunk("IEND", "");
}

Thumbnail thumbnail_of(const std::string& path, std::string_view type, int w, int h,
                       ThumbnailMethod method) {
  auto t = make_thumbnail(path, type, w, h, method);
  BOOST_REQUIRE_MESSAGE(t.ok(), (t.ok() ? std::string() : t.error().message));
  return *t;
}

// The size libvips reads from encoded thumbnail bytes.
std::pair<int, int> decoded_size(const std::string& bytes) {
  VipsImage* img = vips_image_new_from_buffer(bytes.data(), bytes.size(), "", nullptr);
  BOOST_REQUIRE(img != nullptr);
  std::pair<int, int> size{vips_image_get_width(img), vips_image_get_height(img)};
  g_object_unref(img);
  return size;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(thumbnail_request)

BOOST_AUTO_TEST_CASE(width_height_and_method_are_read) {
  auto r = parse_thumbnail_request("96", "64", std::nullopt);
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->width == 96);
  BOOST_TEST(r->height == 64);
  BOOST_TEST((r->method == ThumbnailMethod::kScale));
  BOOST_TEST(r->method_name == "scale");
  auto crop = parse_thumbnail_request("1", std::to_string(kMaxThumbnailSide), "crop");
  BOOST_REQUIRE(crop.ok());
  BOOST_TEST((crop->method == ThumbnailMethod::kCrop));
  BOOST_TEST(crop->method_name == "crop");
  BOOST_TEST(crop->height == kMaxThumbnailSide);
}

BOOST_AUTO_TEST_CASE(missing_sizes_are_missing_params) {
  BOOST_TEST(parse_thumbnail_request(std::nullopt, "10", std::nullopt).error().errcode ==
             "M_MISSING_PARAM");
  BOOST_TEST(parse_thumbnail_request("10", std::nullopt, "crop").error().errcode ==
             "M_MISSING_PARAM");
}

BOOST_AUTO_TEST_CASE(bad_sizes_and_methods_are_invalid_params) {
  for (const char* bad : {"0", "-1", "", "abc", "10.5", "1e2", " 10", "99999999999999999999"}) {
    auto r = parse_thumbnail_request(bad, "10", std::nullopt);
    BOOST_TEST(!r.ok(), bad);
    if (!r.ok()) BOOST_TEST(r.error().errcode == "M_INVALID_PARAM");
  }
  BOOST_TEST(
      !parse_thumbnail_request("10", std::to_string(kMaxThumbnailSide + 1), std::nullopt).ok());
  for (const char* bad : {"stretch", "", "CROP", "scale "}) {
    auto r = parse_thumbnail_request("10", "10", std::string(bad));
    BOOST_TEST(!r.ok(), bad);
    if (!r.ok()) BOOST_TEST(r.error().errcode == "M_INVALID_PARAM");
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(thumbnailer)

BOOST_AUTO_TEST_CASE(only_image_types_are_thumbnailed) {
  BOOST_TEST(can_thumbnail("image/png"));
  BOOST_TEST(can_thumbnail("image/jpeg"));
  BOOST_TEST(can_thumbnail("image/gif"));
  BOOST_TEST(can_thumbnail("image/webp"));
  BOOST_TEST(!can_thumbnail("application/octet-stream"));  // encrypted attachments
  BOOST_TEST(!can_thumbnail("image/svg+xml"));
  BOOST_TEST(!can_thumbnail("text/html"));
}

BOOST_AUTO_TEST_CASE(scale_fits_the_box_and_keeps_the_aspect) {
  ImageDir dir;
  auto t =
      thumbnail_of(dir.image("wide.png", 120, 80), "image/png", 60, 60, ThumbnailMethod::kScale);
  BOOST_TEST(!t.use_original);
  BOOST_TEST(t.content_type == "image/png");
  BOOST_TEST(t.width == 60);
  BOOST_TEST(t.height == 40);
  BOOST_TEST((decoded_size(t.bytes) == std::pair{60, 40}));
}

BOOST_AUTO_TEST_CASE(crop_fills_the_box_exactly) {
  ImageDir dir;
  auto t =
      thumbnail_of(dir.image("wide.png", 120, 80), "image/png", 32, 32, ThumbnailMethod::kCrop);
  BOOST_TEST((decoded_size(t.bytes) == std::pair{32, 32}));
  BOOST_TEST(t.width == 32);
  BOOST_TEST(t.height == 32);
}

BOOST_AUTO_TEST_CASE(jpeg_sources_give_jpeg_thumbnails) {
  ImageDir dir;
  auto t =
      thumbnail_of(dir.image("photo.jpg", 200, 100), "image/jpeg", 50, 50, ThumbnailMethod::kScale);
  BOOST_TEST(t.content_type == "image/jpeg");
  BOOST_TEST(t.bytes.substr(0, 3) == "\xff\xd8\xff");
  BOOST_TEST((decoded_size(t.bytes) == std::pair{50, 25}));
}

BOOST_AUTO_TEST_CASE(images_that_already_fit_are_served_as_they_are) {
  ImageDir dir;
  auto t =
      thumbnail_of(dir.image("small.png", 20, 10), "image/png", 32, 32, ThumbnailMethod::kScale);
  BOOST_TEST(t.use_original);
  BOOST_TEST(t.bytes.empty());
  BOOST_TEST(t.width == 20);
  BOOST_TEST(t.height == 10);
}

BOOST_AUTO_TEST_CASE(the_real_format_counts_not_the_declared_type) {
  ImageDir dir;
  // A PNG uploaded as image/jpeg is still a PNG: its thumbnail is a PNG.
  auto t = thumbnail_of(dir.image("really.png", 100, 100), "image/jpeg", 10, 10,
                        ThumbnailMethod::kScale);
  BOOST_TEST(t.content_type == "image/png");
  auto fake = make_thumbnail(dir.file("fake.png", "not really a png"), "image/png", 10, 10,
                             ThumbnailMethod::kScale);
  BOOST_REQUIRE(!fake.ok());
  BOOST_TEST(fake.error().status == 400);
}

BOOST_AUTO_TEST_CASE(decompression_bombs_are_refused_from_the_header) {
  ImageDir dir;
  auto bomb = make_thumbnail(dir.file("bomb.png", png_claiming(20000, 20000)), "image/png", 10, 10,
                             ThumbnailMethod::kScale);
  BOOST_REQUIRE(!bomb.ok());
  BOOST_TEST(bomb.error().errcode == "M_TOO_LARGE");
  BOOST_TEST(bomb.error().status == 413);
}

BOOST_AUTO_TEST_CASE(refusals_before_any_decoding) {
  ImageDir dir;
  std::string png = dir.image("x.png", 50, 50);
  auto not_image = make_thumbnail(png, "application/octet-stream", 10, 10, ThumbnailMethod::kScale);
  BOOST_REQUIRE(!not_image.ok());
  BOOST_TEST(not_image.error().status == 404);
  for (auto [w, h] : {std::pair{0, 10}, std::pair{10, 0}, std::pair{kMaxThumbnailSide + 1, 10}}) {
    auto r = make_thumbnail(png, "image/png", w, h, ThumbnailMethod::kScale);
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().errcode == "M_INVALID_PARAM");
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace haven::media
