"""The content repository: uploads (direct and create + PUT), authenticated downloads with safe
Content-Disposition and Range, thumbnails of real images (scale and crop), legacy endpoints
frozen for new media, the size limit — and bad input: oversize uploads, bogus content types,
traversal attempts in media ids and file names, bad Range headers."""

import hashlib
import json
import os
import random
import struct
import time
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


def jpeg(width, height):
    """A valid baseline greyscale JPEG of the given size, all mid-grey: every 8x8 block is a
    zero DC difference and an end-of-block, each coded as the single one-bit code of its own
    Huffman table."""
    def segment(marker, payload):
        return b"\xff" + bytes([marker]) + struct.pack(">H", len(payload) + 2) + payload

    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    bits = "00" * blocks  # DC category 0 ("0"), then EOB ("0")
    bits += "1" * (-len(bits) % 8)  # pad with ones
    scan = bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))
    scan = scan.replace(b"\xff", b"\xff\x00")
    one_code = bytes([1] + [0] * 15)  # one code of length 1
    return (b"\xff\xd8" +
            segment(0xDB, b"\x00" + b"\x01" * 64) +  # quantisation table 0: all ones
            segment(0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00") +
            segment(0xC4, b"\x00" + one_code + b"\x00") +  # DC table 0: category 0
            segment(0xC4, b"\x10" + one_code + b"\x00") +  # AC table 0: EOB
            segment(0xDA, b"\x01\x01\x00\x00\x3f\x00") + scan + b"\xff\xd9")


def jpeg_size(data):
    """(width, height) from a JPEG's start-of-frame; fails on anything that is not a JPEG."""
    assert data[:2] == b"\xff\xd8", data[:16]
    i = 2
    while i + 4 <= len(data):
        assert data[i] == 0xFF, f"no marker at {i}"
        marker = data[i + 1]
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        i += 2 + length
    raise AssertionError("no start-of-frame in the JPEG")


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
        self.assertEqual(self.client.last_headers.get("content-range"), "bytes */1024")
        status, got = self.download(body["content_uri"], headers={"Range": "bytes=-24"})
        self.assertEqual((status, got), (206, data[-24:]))
        self.assertEqual(self.client.last_headers["content-range"], "bytes 1000-1023/1024")
        status, got = self.download(body["content_uri"], headers={"Range": "bytes=1000-"})
        self.assertEqual((status, got), (206, data[1000:]))
        status, got = self.download(body["content_uri"], headers={"Range": "bytes=1000-99999"})
        self.assertEqual((status, got), (206, data[1000:]))
        status, _ = self.download(body["content_uri"], headers={"Range": "bytes=-0"})
        self.assertEqual(status, 416)
        for bad in ("bytes=abc", "pages=1-2", "bytes=9-3", "bytes=" + "9" * 40 + "-",
                    "bytes=0-1,5-6", "bytes=", "bytes=--1", "bytes=1-2-3"):
            status, got = self.download(body["content_uri"], headers={"Range": bad})
            self.assertEqual(status, 200, bad)
            self.assertEqual(got, data, bad)

    def test_oversize_and_zero_byte_uploads(self):
        self.assertError(self.upload(b"x" * (1024 * 1024 + 10)), 413, "M_TOO_LARGE")
        # Far beyond the limit, the body is not even kept: still 413, and the server lives.
        status, _ = self.upload(b"x" * (3 * 1024 * 1024))
        self.assertEqual(status, 413)
        # Exactly at the limit is allowed.
        status, body = self.upload(b"y" * (1024 * 1024))
        self.assertEqual(status, 200, body)
        self.assertEqual(len(self.download(body["content_uri"])[1]), 1024 * 1024)
        status, body = self.upload(b"")
        self.assertEqual(status, 200, body)
        status, got = self.download(body["content_uri"])
        self.assertEqual((status, got), (200, b""))
        status, _ = self.download(body["content_uri"], headers={"Range": "bytes=0-"})
        self.assertEqual(status, 416, "an empty file has no byte to send")
        self.assertServerAlive()

    def test_oversize_put_leaves_the_reservation_usable(self):
        status, created = self.client.request("POST", "/_matrix/media/v1/create", {},
                                              token=self.alice["access_token"])
        self.assertEqual(status, 200, created)
        server, media_id = self.mxc_parts(created["content_uri"])
        path = f"{MEDIA}/upload/{quote(server)}/{quote(media_id)}"
        self.assertError(self.client.request("PUT", path, raw_body=b"z" * (1024 * 1024 + 1),
                                             token=self.alice["access_token"]),
                         413, "M_TOO_LARGE")
        status, _ = self.client.request("PUT", path, raw_body=b"fits",
                                        token=self.alice["access_token"],
                                        headers={"Content-Type": "text/plain"})
        self.assertEqual(status, 200)
        self.assertEqual(self.download(created["content_uri"])[1], b"fits")

    def test_bogus_content_types_are_refused(self):
        for bogus in ("not a type;;; <x>", "image", "/png", "image/", "text/html/x",
                      "t\u00ebxt/plain", "image/p(n)g", "a/" + "b" * 300):
            self.assertError(self.upload(b"data", bogus), 400, "M_INVALID_PARAM")
        # No Content-Type at all is stored as application/octet-stream, as an attachment.
        status, body = self.client.request("POST", MEDIA + "/upload", raw_body=b"data",
                                           token=self.alice["access_token"],
                                           headers={"Content-Type": ""})
        self.assertEqual(status, 200, body)
        status, _ = self.download(body["content_uri"])
        self.assertEqual(status, 200)
        h = self.client.last_headers
        self.assertEqual(h["content-type"], "application/octet-stream")
        self.assertTrue(h["content-disposition"].startswith("attachment"))

    def test_parameters_of_a_type_do_not_make_it_inline(self):
        status, body = self.upload(b"<b>x</b>", "text/html; charset=utf-8")
        self.assertEqual(status, 200, body)
        self.download(body["content_uri"])
        h = self.client.last_headers
        self.assertTrue(h["content-disposition"].startswith("attachment"))
        self.assertIn("sandbox", h["content-security-policy"])

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
        for media_id in ("..%2F..%2Fetc%2Fpasswd", "%2e%2e", "abc%00def"):
            status, _ = self.client.request(
                "GET", f"{V1}/thumbnail/{quote(server)}/{media_id}?width=10&height=10",
                token=self.alice["access_token"])
            self.assertEqual(status, 404, media_id)
            status, _ = self.client.request(
                "PUT", f"{MEDIA}/upload/{quote(server)}/{media_id}", raw_body=b"x",
                token=self.alice["access_token"])
            self.assertEqual(status, 404, media_id)
        self.assertServerAlive()

    def test_file_names_in_download_paths(self):
        _, body = self.upload(b"named content", "text/plain", "original.txt")
        server, media_id = self.mxc_parts(body["content_uri"])
        base = f"{V1}/download/{quote(server)}/{quote(media_id)}"
        status, _ = self.client.request("GET", f"{base}/..%2F..%2Fetc%2Fpasswd",
                                        token=self.alice["access_token"])
        self.assertEqual(status, 200, "a name is only a header value, never a path")
        self.assertEqual(self.client.last_body, b"named content")
        self.assertEqual(self.client.last_headers["content-disposition"],
                         "inline; filename*=utf-8''..%2F..%2Fetc%2Fpasswd")
        status, _ = self.client.request("GET", f"{base}/Gr%C3%BC%C3%9Fe%22.txt",
                                        token=self.alice["access_token"])
        self.assertEqual(status, 200)
        self.assertEqual(self.client.last_headers["content-disposition"],
                         "inline; filename*=utf-8''Gr%C3%BC%C3%9Fe%22.txt")
        for bad in ("a%00b", "a%0D%0ASet-Cookie%3A%20x%3Dy", "%FF%FE", "n" * 300):
            self.assertError(self.client.request("GET", f"{base}/{bad}",
                                                 token=self.alice["access_token"]),
                             400, "M_INVALID_PARAM")
        self.assertError(self.upload(b"x", "text/plain", "a\x00b"), 400, "M_INVALID_PARAM")

    def test_authentication_and_legacy_freeze(self):
        _, body = self.upload(b"secret attachment")
        self.assertError(self.download(body["content_uri"], token=False), 401, "M_MISSING_TOKEN")
        status, _ = self.download(body["content_uri"], token=False, legacy=True)
        self.assertEqual(status, 404, "new media must not be served unauthenticated")
        _, image = self.upload(png(40, 40), "image/png")
        server, media_id = self.mxc_parts(image["content_uri"])
        status, _ = self.client.request(
            "GET", f"{MEDIA}/thumbnail/{quote(server)}/{quote(media_id)}?width=8&height=8")
        self.assertEqual(status, 404, "nor thumbnailed unauthenticated")
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

    def test_jpeg_thumbnails_are_smaller_jpegs_of_the_requested_size(self):
        source = jpeg(160, 96)
        self.assertEqual(jpeg_size(source), (160, 96))
        status, body = self.upload(source, "image/jpeg")
        self.assertEqual(status, 200, body)
        status, data = self.thumbnail(body["content_uri"], 40, 40, "scale")
        self.assertEqual(status, 200, data)
        self.assertEqual(self.client.last_headers["content-type"], "image/jpeg")
        self.assertEqual(jpeg_size(data), (40, 24))
        status, data = self.thumbnail(body["content_uri"], 24, 24, "crop")
        self.assertEqual(status, 200, data)
        self.assertEqual(jpeg_size(data), (24, 24))
        # A box larger than the image gets the original, never an enlargement.
        status, data = self.thumbnail(body["content_uri"], 800, 600, "scale")
        self.assertEqual(status, 200)
        self.assertEqual(data, source)

    def test_thumbnail_refusals(self):
        _, image = self.upload(png(20, 20), "image/png")
        for w, h, m in ((0, 10, "scale"), (10, 10, "stretch"), (99999, 10, "scale")):
            status, _ = self.thumbnail(image["content_uri"], w, h, m)
            self.assertEqual(status, 400, (w, h, m))
        _, blob = self.upload(b"\x00encrypted bytes", "application/octet-stream")
        self.assertError(self.thumbnail(blob["content_uri"], 10, 10, "scale"), 404, "M_NOT_FOUND")
        # Encrypted attachments are application/octet-stream: even image bytes get no thumbnail.
        _, opaque = self.upload(png(64, 64), "application/octet-stream")
        self.assertError(self.thumbnail(opaque["content_uri"], 10, 10, "scale"), 404,
                         "M_NOT_FOUND")
        _, fake = self.upload(b"not really a png", "image/png")
        status, _ = self.thumbnail(fake["content_uri"], 10, 10, "scale")
        self.assertIn(status, (400, 404, 415))
        self.assertServerAlive()


class LegacyMediaTest(HomeserverTestCase):
    """With media.freeze_legacy_media off, the deprecated unauthenticated routes still serve
    what is uploaded."""

    options = {"media.freeze_legacy_media": "false"}

    def test_unfrozen_media_is_served_on_legacy_routes(self):
        alice = self.user("legacy")
        status, body = self.client.request("POST", MEDIA + "/upload", raw_body=png(40, 20),
                                           token=alice["access_token"],
                                           headers={"Content-Type": "image/png"})
        self.assertEqual(status, 200, body)
        server, media_id = body["content_uri"][len("mxc://"):].split("/", 1)
        status, _ = self.client.request("GET", f"{MEDIA}/download/{quote(server)}/{media_id}")
        self.assertEqual(status, 200)
        self.assertEqual(png_size(self.client.last_body), (40, 20))
        status, _ = self.client.request(
            "GET", f"{MEDIA}/thumbnail/{quote(server)}/{media_id}?width=10&height=10")
        self.assertEqual(status, 200)
        self.assertEqual(png_size(self.client.last_body), (10, 5))
        # The authenticated route still wants a token.
        self.assertError(self.client.request("GET", f"{V1}/download/{quote(server)}/{media_id}"),
                         401, "M_MISSING_TOKEN")


def wait_until(condition, limit_s=30):
    """Polls `condition` until it holds (True) or `limit_s` passes (False)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


class StreamedUploadTest(HomeserverTestCase):
    """Upload bodies are written to a temporary file in the media store as they arrive, never
    held whole in memory; the upload limit is enforced while they arrive, with 413 M_TOO_LARGE
    JSON, and no temporary file outlives its request."""

    LIMIT = 32 * 1024 * 1024
    options = {"media.max_upload_size_mb": "32"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alice = cls.client.register(unique("stream"))

    def tmp_dir(self):
        return os.path.join(self.server.data_dir, "media", "tmp")

    def temp_files(self):
        return sorted(os.listdir(self.tmp_dir()))

    def largest_temp_file(self):
        sizes = [os.path.getsize(os.path.join(self.tmp_dir(), name))
                 for name in self.temp_files()]
        return max(sizes, default=-1)

    def send_head(self, sock, method="POST", path=MEDIA + "/upload", headers=None):
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1",
                 f"Authorization: Bearer {self.alice['access_token']}",
                 "Content-Type: application/octet-stream"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())

    def assertTooLargeJson(self, status, headers, body):
        self.assertEqual(status, 413, body)
        self.assertTrue(headers.get("content-type", "").startswith("application/json"), headers)
        self.assertEqual(headers.get("access-control-allow-origin"), "*")
        parsed = json.loads(body)
        self.assertEqual(parsed["errcode"], "M_TOO_LARGE")
        self.assertIsInstance(parsed["error"], str)

    def download_bytes(self, uri):
        server, media_id = uri[len("mxc://"):].split("/", 1)
        status, _ = self.client.request(
            "GET", f"{V1}/download/{quote(server)}/{quote(media_id)}",
            token=self.alice["access_token"])
        self.assertEqual(status, 200)
        return self.client.last_body

    def test_large_upload_is_written_to_disk_as_it_arrives_and_downloads_intact(self):
        data = random.Random(7).randbytes(24 * 1024 * 1024)
        first = 8 * 1024 * 1024
        sock = self.connect()
        self.send_head(sock, headers={"Content-Length": len(data)})
        sock.sendall(data[:first])
        # Before the rest is sent, what arrived is already on disk, not in the server's memory
        # (the last few KiB may wait in a buffer for the next batch).
        self.assertTrue(wait_until(lambda: self.largest_temp_file() >= first // 2),
                        f"no temporary file of {first // 2} bytes: {self.temp_files()}")
        sock.sendall(data[first:])
        status, _, body = self.read_response(sock)
        self.assertEqual(status, 200, body)
        got = self.download_bytes(json.loads(body)["content_uri"])
        self.assertEqual(len(got), len(data))
        self.assertEqual(hashlib.sha256(got).hexdigest(), hashlib.sha256(data).hexdigest())
        self.assertEqual(self.temp_files(), [], "the temporary file became the blob")

    def test_content_length_over_the_limit_is_refused_before_the_body(self):
        for declared in (self.LIMIT + 1, 100 * 1024 ** 3):
            sock = self.connect()
            # Only the head is sent: the answer must not wait for a body.
            self.send_head(sock, headers={"Content-Length": declared})
            self.assertTooLargeJson(*self.read_response(sock))
        self.assertEqual(self.temp_files(), [])
        self.assertServerAlive()

    def test_content_length_over_the_limit_on_put_is_refused(self):
        status, created = self.client.request("POST", "/_matrix/media/v1/create", {},
                                              token=self.alice["access_token"])
        self.assertEqual(status, 200, created)
        server, media_id = created["content_uri"][len("mxc://"):].split("/", 1)
        sock = self.connect()
        self.send_head(sock, "PUT", f"{MEDIA}/upload/{quote(server)}/{quote(media_id)}",
                       {"Content-Length": self.LIMIT + 1})
        self.assertTooLargeJson(*self.read_response(sock))

    def test_chunked_upload_is_stored(self):
        data = random.Random(8).randbytes(3 * 1024 * 1024 + 17)
        sock = self.connect()
        self.send_head(sock, headers={"Transfer-Encoding": "chunked"})
        view, sizes, i = memoryview(data), [1, 65536, 999_983, 7], 0
        pos = 0
        while pos < len(data):
            piece = view[pos:pos + sizes[i % len(sizes)]]
            sock.sendall(b"%x;ext=1\r\n" % len(piece) + bytes(piece) + b"\r\n")
            pos += len(piece)
            i += 1
        sock.sendall(b"0\r\nX-Trailer: yes\r\n\r\n")
        status, _, body = self.read_response(sock)
        self.assertEqual(status, 200, body)
        self.assertEqual(self.download_bytes(json.loads(body)["content_uri"]), data)
        self.assertEqual(self.temp_files(), [])

    def test_chunked_upload_growing_past_the_limit_is_cut_off(self):
        sock = self.connect()
        self.send_head(sock, headers={"Transfer-Encoding": "chunked"})
        chunk = b"c" * (1024 * 1024)
        sent = 0
        try:
            while sent <= self.LIMIT + 2 * len(chunk):
                sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                sent += len(chunk)
        except OSError:
            pass  # the server may stop reading once it has answered
        self.assertTooLargeJson(*self.read_response(sock))
        self.assertTrue(wait_until(lambda: self.temp_files() == []), self.temp_files())
        self.assertServerAlive()

    def test_client_gone_mid_upload_leaves_no_temporary_file(self):
        sock = self.connect()
        self.send_head(sock, headers={"Content-Length": 20 * 1024 * 1024})
        sock.sendall(b"p" * (4 * 1024 * 1024))
        self.assertTrue(wait_until(lambda: self.largest_temp_file() >= 2 * 1024 * 1024))
        sock.close()
        self.assertTrue(wait_until(lambda: self.temp_files() == []), self.temp_files())
        self.assertServerAlive()

    def test_expect_continue_gets_100_then_the_answer(self):
        sock = self.connect()
        data = b"continue me" * 1000
        self.send_head(sock, headers={"Content-Length": len(data), "Expect": "100-continue"})
        interim = b""
        while not interim.endswith(b"\r\n\r\n"):
            interim += sock.recv(1)
        self.assertTrue(interim.startswith(b"HTTP/1.1 100"), interim)
        sock.sendall(data)
        status, _, body = self.read_response(sock)
        self.assertEqual(status, 200, body)
        self.assertEqual(self.download_bytes(json.loads(body)["content_uri"]), data)
        # Too large: the final answer comes instead of the 100, and no body is wanted.
        sock = self.connect()
        self.send_head(sock, headers={"Content-Length": self.LIMIT + 1,
                                      "Expect": "100-continue"})
        self.assertTooLargeJson(*self.read_response(sock))

    def test_unauthenticated_upload_is_refused_and_leaves_nothing(self):
        status, body = self.client.request("POST", MEDIA + "/upload", raw_body=b"x" * 100_000)
        self.assertEqual(status, 401, body)
        self.assertEqual(self.temp_files(), [])

    def test_zz_temporary_files_left_by_a_crash_are_removed_at_start(self):
        self.server.kill9()
        stale = os.path.join(self.tmp_dir(), "upload-crashed")
        with open(stale, "wb") as f:
            f.write(b"half an upload")
        self.server.start()
        self.assertFalse(os.path.exists(stale))
        self.assertEqual(self.temp_files(), [])
        status, body = self.client.request("POST", MEDIA + "/upload", raw_body=b"after",
                                           token=self.alice["access_token"])
        self.assertEqual(status, 200, body)


if __name__ == "__main__":
    unittest.main()
