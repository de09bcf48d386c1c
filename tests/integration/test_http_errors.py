"""Integration tests of how the Client-Server API answers requests it cannot serve: unknown
paths and methods, bodies that are not JSON, JSON of the wrong shape, hostile nesting,
invalid UTF-8 and oversize bodies. Every answer must be the spec's standard error JSON, and
the server must keep serving afterwards."""

import http.client
import io
import json
import unittest

from harness import HomeserverTestCase, unique

V3 = "/_matrix/client/v3"
PASSWORD = "correct horse battery"


class RoutingErrorsTest(HomeserverTestCase):
    def test_unknown_path_is_404_unrecognized(self):
        self.assertError(self.client.request("GET", V3 + "/no/such/endpoint"), 404,
                         "M_UNRECOGNIZED")

    def test_unknown_path_outside_matrix_prefix_is_404_unrecognized(self):
        self.assertError(self.client.request("GET", "/definitely-not-here"), 404,
                         "M_UNRECOGNIZED")

    def test_wrong_method_on_known_path_is_405_unrecognized(self):
        self.assertError(self.client.request("DELETE", V3 + "/login"), 405, "M_UNRECOGNIZED")

    def test_put_on_register_is_405_unrecognized(self):
        self.assertError(self.client.request("PUT", V3 + "/register", {}), 405, "M_UNRECOGNIZED")

    def test_options_answers_with_cors_headers(self):
        status, _ = self.client.request("OPTIONS", V3 + "/login",
                                        headers={"Origin": "https://app.example.org",
                                                 "Access-Control-Request-Method": "POST"})
        self.assertEqual(status, 200)
        self.assertEqual(self.client.last_headers.get("access-control-allow-origin"), "*")
        self.assertIn("POST", self.client.last_headers.get("access-control-allow-methods", ""))
        self.assertIn("authorization",
                      self.client.last_headers.get("access-control-allow-headers", "").lower())

    def test_ordinary_responses_carry_cors_header(self):
        status, _ = self.client.request("GET", "/_matrix/client/versions")
        self.assertEqual(status, 200)
        self.assertEqual(self.client.last_headers.get("access-control-allow-origin"), "*")

    def test_json_responses_are_labelled_json(self):
        self.client.request("GET", "/_matrix/client/versions")
        self.assertTrue(
            self.client.last_headers.get("content-type", "").startswith("application/json"))
        self.client.request("GET", V3 + "/no/such/endpoint")
        self.assertTrue(
            self.client.last_headers.get("content-type", "").startswith("application/json"))


class BodyErrorsTest(HomeserverTestCase):
    def login_raw(self, raw):
        return self.client.request("POST", V3 + "/login", raw_body=raw)

    def test_malformed_json_is_not_json(self):
        self.assertError(self.login_raw(b'{"type": "m.login.password",'), 400, "M_NOT_JSON")
        self.assertServerAlive()

    def test_plain_text_body_is_not_json(self):
        self.assertError(self.login_raw(b"hello"), 400, "M_NOT_JSON")

    def test_json_array_body_is_bad_json(self):
        self.assertError(self.login_raw(b"[]"), 400, "M_BAD_JSON")

    def test_json_string_body_is_bad_json(self):
        self.assertError(self.login_raw(b'"m.login.password"'), 400, "M_BAD_JSON")

    def test_trailing_garbage_after_json_is_not_json(self):
        self.assertError(self.login_raw(b'{"type": "m.login.password"} {}'), 400, "M_NOT_JSON")

    def test_nesting_1000_deep_is_refused_and_server_survives(self):
        raw = b'{"type": "m.login.password", "x": ' + b'{"a": ' * 1000 + b"1" + b"}" * 1000 + b"}"
        status, body = self.login_raw(raw)
        self.assertEqual(status, 400, body)
        self.assertIn(body["errcode"], ("M_NOT_JSON", "M_BAD_JSON"))
        self.assertServerAlive()

    def test_half_a_million_open_brackets_are_refused_and_server_survives(self):
        status, body = self.login_raw(b"[" * 500_000)
        self.assertEqual(status, 400, body)
        self.assertIn(body["errcode"], ("M_NOT_JSON", "M_BAD_JSON"))
        self.assertServerAlive()

    def test_invalid_utf8_is_not_json(self):
        raw = b'{"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "\xff\xfe"}, "password": "x"}'
        self.assertError(self.login_raw(raw), 400, "M_NOT_JSON")
        self.assertServerAlive()

    def test_lone_surrogate_escape_is_not_json(self):
        raw = b'{"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "\\ud800"}, "password": "x"}'
        status, body = self.login_raw(raw)
        self.assertEqual(status, 400, body)
        self.assertIn(body["errcode"], ("M_NOT_JSON", "M_BAD_JSON"))

    def test_two_megabyte_body_is_too_large(self):
        raw = b'{"username": "' + b"a" * (2 * 1024 * 1024) + b'", "password": "x"}'
        self.assertError(self.client.request("POST", V3 + "/register", raw_body=raw), 413,
                         "M_TOO_LARGE")
        self.assertServerAlive()

    def test_duplicate_keys_do_not_crash(self):
        status, body = self.login_raw(b'{"type": "m.login.password", "type": "m.login.password"}')
        self.assertEqual(status, 400, body)
        self.assertServerAlive()

    def test_wrong_type_in_register_is_bad_json(self):
        self.assertError(self.client.request("POST", V3 + "/register",
                                             {"username": 5, "password": PASSWORD}),
                         400, "M_BAD_JSON")

    def test_wrong_type_for_password_in_register_is_bad_json(self):
        self.assertError(self.client.request("POST", V3 + "/register",
                                             {"username": unique("t"), "password": ["x"]}),
                         400, "M_BAD_JSON")

    def test_auth_session_of_wrong_type_is_refused(self):
        status, body = self.client.request(
            "POST", V3 + "/register",
            {"username": unique("t"), "password": PASSWORD,
             "auth": {"type": "m.login.dummy", "session": 12}})
        # A number is not a session: refused, never an account.
        self.assertIn(status, (400, 401), body)
        self.assertNotIn("access_token", body)

    def test_empty_body_on_login_is_rejected(self):
        status, body = self.login_raw(b"")
        self.assertEqual(status, 400, body)
        self.assertIn(body["errcode"], ("M_NOT_JSON", "M_BAD_JSON", "M_UNKNOWN",
                                        "M_MISSING_PARAM"))

    def test_very_long_access_token_is_unknown_token(self):
        self.assertError(self.client.whoami("x" * 10_000), 401, "M_UNKNOWN_TOKEN")
        self.assertServerAlive()

    def test_many_errors_in_a_row_leave_the_server_serving(self):
        for raw in [b"{", b"[1,2", b"\x00\x01", b"{}" * 1000, b'{"a":"\xc3"}'] * 10:
            status, _ = self.login_raw(raw)
            self.assertEqual(status, 400)
        self.assertServerAlive()
        self.client.register(unique("after"))


class FramingTest(HomeserverTestCase):
    """How requests are read off the connection: Content-Length and chunked bodies, bounds on
    JSON bodies enforced while they arrive, keep-alive and pipelining, and malformed requests
    answered with the standard error JSON."""

    def assertJsonError(self, response, status, errcode):
        got_status, headers, body = response
        self.assertEqual(got_status, status, body)
        self.assertTrue(headers.get("content-type", "").startswith("application/json"))
        self.assertEqual(headers.get("access-control-allow-origin"), "*")
        self.assertEqual(json.loads(body)["errcode"], errcode)

    def test_json_body_far_over_the_bound_is_refused_before_it_is_sent(self):
        sock = self.connect(timeout=30)
        sock.sendall(b"POST " + V3.encode() + b"/register HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 52428800\r\n\r\n")
        self.assertJsonError(self.read_response(sock), 413, "M_TOO_LARGE")
        self.assertServerAlive()

    def test_chunked_json_body_over_the_bound_is_too_large(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        self.addCleanup(conn.close)
        pieces = (b"a" * (256 * 1024) for _ in range(16))  # 4 MiB
        conn.request("POST", V3 + "/login", body=pieces, encode_chunked=True,
                     headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        body = response.read()
        self.assertEqual(response.status, 413, body)
        self.assertEqual(json.loads(body)["errcode"], "M_TOO_LARGE")
        self.assertServerAlive()

    def test_chunked_json_body_is_read(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        self.addCleanup(conn.close)
        pieces = iter([b'{"type": "m.login.password",', b' "identifier": {"type": "m.id.user",',
                       b' "user": "nobody-here"}, "password": "x"}'])
        conn.request("POST", V3 + "/login", body=pieces, encode_chunked=True,
                     headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        body = json.loads(response.read())
        # The whole body arrived and was parsed: the login is refused for the unknown user.
        self.assertEqual(response.status, 403, body)
        self.assertEqual(body["errcode"], "M_FORBIDDEN")

    def test_keep_alive_and_pipelined_requests_are_answered_in_order(self):
        sock = self.connect(timeout=30)
        one = b"GET /_matrix/client/versions HTTP/1.1\r\nHost: x\r\n\r\n"
        bad = b"GET " + V3.encode() + b"/no/such HTTP/1.1\r\nHost: x\r\n\r\n"
        sock.sendall(one)
        self.assertEqual(self.read_response(sock)[0], 200)
        sock.sendall(bad + one + bad)  # three at once
        self.assertJsonError(self.read_response(sock), 404, "M_UNRECOGNIZED")
        self.assertEqual(self.read_response(sock)[0], 200)
        self.assertJsonError(self.read_response(sock), 404, "M_UNRECOGNIZED")

    def test_malformed_requests_get_error_json_and_the_connection_closes(self):
        cases = [
            (b"GARBAGE\r\n\r\n", 400),
            (b"GET /_matrix/client/versions HTTP/2.0\r\n\r\n", 505),
            (b"GET nopath HTTP/1.1\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n", 400),
            (b"POST " + V3.encode() + b"/login HTTP/1.1\r\nContent-Length: 5\r\n"
             b"Transfer-Encoding: chunked\r\n\r\n", 400),
            (b"POST " + V3.encode() + b"/login HTTP/1.1\r\nContent-Length: 5\r\n"
             b"Content-Length: 6\r\n\r\n", 400),
            (b"POST " + V3.encode() + b"/login HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
             501),
            (b"POST " + V3.encode() + b"/login HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
             b"zz\r\n", 400),
            (b"GET / HTTP/1.1\r\nX-Big: " + b"h" * (70 * 1024) + b"\r\n\r\n", 431),
        ]
        for raw, status in cases:
            sock = self.connect(timeout=30)
            try:
                sock.sendall(raw)
            except OSError:
                pass
            got = self.read_response(sock)
            self.assertEqual(got[0], status, raw[:60])
            self.assertEqual(json.loads(got[2])["errcode"], "M_UNKNOWN")
            self.assertEqual(got[1].get("connection"), "close")
        self.assertServerAlive()

    def test_head_request_gets_no_body(self):
        sock = self.connect(timeout=30)
        sock.sendall(b"HEAD /_matrix/client/versions HTTP/1.1\r\nHost: x\r\n\r\n"
                     b"GET /_matrix/client/versions HTTP/1.1\r\nHost: x\r\n\r\n")
        # Both answers may arrive in one read, so they are split by hand: the HEAD answer is its
        # head alone, and the GET answer starts right after its blank line.
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            self.assertTrue(chunk, "connection closed before the HEAD answer")
            received += chunk
        head, rest = received.split(b"\r\n\r\n", 1)
        self.assertTrue(head.startswith(b"HTTP/1.1 200"), head)
        self.assertIn(b"content-length:", head.lower())
        response = http.client.HTTPResponse(_SocketAfter(rest, sock))
        response.begin()
        self.assertEqual(response.status, 200)
        self.assertIn("versions", json.loads(response.read()))


class _SocketAfter:
    """A socket whose stream starts with bytes already received from it."""

    class _Stream(io.RawIOBase):
        def __init__(self, first, sock):
            self.first, self.sock = first, sock

        def readable(self):
            return True

        def readinto(self, buffer):
            if self.first:
                n = min(len(buffer), len(self.first))
                buffer[:n], self.first = self.first[:n], self.first[n:]
                return n
            return self.sock.recv_into(buffer)

    def __init__(self, first, sock):
        self.stream = io.BufferedReader(self._Stream(first, sock))

    def makefile(self, *args, **kwargs):
        return self.stream


if __name__ == "__main__":
    unittest.main(verbosity=2)
