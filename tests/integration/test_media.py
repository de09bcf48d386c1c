"""The content repository: uploads (direct and create + PUT), authenticated downloads with safe
Content-Disposition and Range, thumbnails of real images (scale and crop), legacy endpoints
frozen for new media, the size limit — and bad input: oversize uploads, bogus content types,
traversal attempts in media ids and file names, bad Range headers."""

import struct
import unittest
import zlib

from harness import HomeserverTestCase, quote, unique

MEDIA = "/_matrix/media/v3"
V1 = "/_matrix/client/v1/media"


def png(width, height):
    """A valid RGB PNG of the given size (a gradient), made with zlib alone."""
    raw = b""
    for y in range(height):
        raw += b"\x00" + b"".join(bytes((x * 7 % 256, y * 5 % 256, (x + y) % 256))
                                  for x in range(width))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) +
            chunk(b"IEND", b""))


def png_size(data):
    """(width, height) from a PNG's IHDR; fails on anything that is not a PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:16]
    return struct.unpack(">II", data[16:24])


class MediaTest(HomeserverTestCase):
    options = {"media.max_upload_size_mb": "1"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = cls.client.register(unique("media"))

    def upload(self, data, content_type="application/octet-stream", filename=None, who=None):
        who = who or self.alice
        path = MEDIA + "/upload" + (f"?filename={quote(filename)}" if filename else "")
        return self.client.request("POST", path, raw_body=data, token=who["access_token"],
                                   headers={"Content-Type": content_type})

    def mxc_parts(self, uri):
        self.assertTrue(uri.startswith("mxc://"), uri)
        server, media_id = uri[len("mxc://"):].split("/", 1)
        return server, media_id

    def download(self, uri, token=True, suffix="", headers=None, legacy=False):
        server, media_id = self.mxc_parts(uri)
        base = MEDIA if legacy else V1
        status, parsed = self.client.request(
            "GET", f"{base}/download/{quote(server)}/{quote(media_id)}{suffix}",
            token=self.alice["access_token"] if token else None, headers=headers)
        return status, parsed if status >= 400 else self.client.last_body

    def test_upload_then_download_keeps_bytes_and_type(self):
        data = b"hello media \x00\x01\x02" * 50
        status, body = self.upload(data, "text/plain", "notes.txt")
        self.assertEqual(status, 200, body)
        status, got = self.download(body["content_uri"])
        self.assertEqual(status, 200)
        self.assertEqual(got, data)
        h = {k.lower(): v for k, v in self.client.last_headers.items()}
        self.assertTrue(h["content-type"].startswith("text/plain"))
        self.assertIn("notes.txt", h["content-disposition"])
        self.assertEqual(h.get("x-content-type-options"), "nosniff")

    def test_dangerous_types_are_attachments_and_names_are_safe(self):
        self.assertError(self.upload(b"x", "text/plain", "a\r\nSet-Cookie: a=b"), 400,
                         "M_INVALID_PARAM")
        status, body = self.upload(b"<script>alert(1)</script>", "text/html",
                                   '../../etc/passwd"; x=y')
        self.assertEqual(status, 200, body)
        status, _ = self.download(body["content_uri"])
        self.assertEqual(status, 200)
        h = {k.lower(): v for k, v in self.client.last_headers.items()}
        disposition = h["content-disposition"]
        self.assertTrue(disposition.startswith("attachment"), disposition)
        self.assertNotIn("\r", disposition)
        self.assertNotIn("\n", disposition)
        self.assertNotIn("set-cookie", h)
        self.assertNotIn('"; x=y', disposition.replace("%22", '"').split("filename*")[0])

    def test_range_requests(self):
        data = bytes(range(256)) * 4
        _, body = self.upload(data)
        status, got = self.download(body["content_uri"], headers={"Range": "bytes=10-19"})
        self.assertEqual(status, 206)
        self.assertEqual(got, data[10:20])
        status, _ = self.download(body["content_uri"], headers={"Range": "bytes=5000-6000"})
        self.assertEqual(status, 416)
        for bad in ("bytes=abc", "pages=1-2", "bytes=9-3", "bytes=" + "9" * 40 + "-"):
            status, got = self.download(body["content_uri"], headers={"Range": bad})
            self.assertEqual(status, 200, bad)
            self.assertEqual(got, data, bad)

    def test_oversize_and_zero_byte_uploads(self):
        self.assertError(self.upload(b"x" * (1024 * 1024 + 10)), 413, "M_TOO_LARGE")
        status, body = self.upload(b"")
        if status == 200:
            status, got = self.download(body["content_uri"])
            self.assertEqual((status, got), (200, b""))
        else:
            self.assertEqual(status, 400, body)

    def test_bogus_content_types_are_stored_safely(self):
        status, body = self.upload(b"data", "not a type;;; <x>")
        if status == 200:
            self.download(body["content_uri"])
            h = {k.lower(): v for k, v in self.client.last_headers.items()}
            self.assertNotEqual(h.get("content-type", "").split(";")[0], "text/html")
        else:
            self.assertEqual(status, 400, body)

    def test_traversal_and_unknown_media_ids(self):
        server = self.server.server_name
        for media_id in ("..%2F..%2Fetc%2Fpasswd", "..", "abc%00def", "a" * 300, "nope"):
            status, body = self.client.request(
                "GET", f"{V1}/download/{quote(server)}/{media_id}",
                token=self.alice["access_token"])
            self.assertEqual(status, 404, media_id)
        status, _ = self.client.request("GET", f"{V1}/download/other.org/abc",
                                        token=self.alice["access_token"])
        self.assertEqual(status, 404)

    def test_authentication_and_legacy_freeze(self):
        _, body = self.upload(b"secret attachment")
        self.assertError(self.download(body["content_uri"], token=False), 401, "M_MISSING_TOKEN")
        status, _ = self.download(body["content_uri"], token=False, legacy=True)
        self.assertEqual(status, 404, "new media must not be served unauthenticated")
        config = self.client.request("GET", V1 + "/config", token=self.alice["access_token"])
        self.assertEqual(config[0], 200)
        self.assertEqual(config[1]["m.upload.size"], 1024 * 1024)

    def test_create_then_put_once_by_its_creator(self):
        status, created = self.client.request("POST", "/_matrix/media/v1/create", {},
                                              token=self.alice["access_token"])
        self.assertEqual(status, 200, created)
        server, media_id = self.mxc_parts(created["content_uri"])
        path = f"{MEDIA}/upload/{quote(server)}/{quote(media_id)}"
        bob = self.client.register(unique("other"))
        status, _ = self.client.request("PUT", path, raw_body=b"x", token=bob["access_token"],
                                        headers={"Content-Type": "text/plain"})
        self.assertEqual(status, 403)
        status, _ = self.client.request("PUT", path, raw_body=b"first", token=self.alice["access_token"],
                                        headers={"Content-Type": "text/plain"})
        self.assertEqual(status, 200)
        self.assertError(self.client.request("PUT", path, raw_body=b"second",
                                             token=self.alice["access_token"],
                                             headers={"Content-Type": "text/plain"}),
                         409, "M_CANNOT_OVERWRITE_MEDIA")
        self.assertEqual(self.download(created["content_uri"])[1], b"first")

    def thumbnail(self, uri, width, height, method):
        server, media_id = self.mxc_parts(uri)
        status, parsed = self.client.request(
            "GET", f"{V1}/thumbnail/{quote(server)}/{quote(media_id)}"
            f"?width={width}&height={height}&method={method}", token=self.alice["access_token"])
        return status, parsed if status >= 400 else self.client.last_body

    def test_thumbnails_scale_and_crop(self):
        _, body = self.upload(png(120, 80), "image/png")
        status, data = self.thumbnail(body["content_uri"], 60, 60, "scale")
        self.assertEqual(status, 200)
        w, h = png_size(data)
        self.assertEqual((w, h), (60, 40), "scale keeps the aspect ratio within the box")
        status, data = self.thumbnail(body["content_uri"], 32, 32, "crop")
        self.assertEqual(status, 200)
        self.assertEqual(png_size(data), (32, 32))
        # Cached: the same answer again.
        self.assertEqual(self.thumbnail(body["content_uri"], 32, 32, "crop")[1], data)

    def test_thumbnail_refusals(self):
        _, image = self.upload(png(20, 20), "image/png")
        for w, h, m in ((0, 10, "scale"), (10, 10, "stretch"), (99999, 10, "scale")):
            status, _ = self.thumbnail(image["content_uri"], w, h, m)
            self.assertEqual(status, 400, (w, h, m))
        _, blob = self.upload(b"\x00encrypted bytes", "application/octet-stream")
        status, _ = self.thumbnail(blob["content_uri"], 10, 10, "scale")
        self.assertIn(status, (400, 404))
        _, fake = self.upload(b"not really a png", "image/png")
        status, _ = self.thumbnail(fake["content_uri"], 10, 10, "scale")
        self.assertIn(status, (400, 404, 415))
        self.assertServerAlive()


if __name__ == "__main__":
    unittest.main()
