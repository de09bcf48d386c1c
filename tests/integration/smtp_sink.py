"""A real SMTP server for the email tests (aiosmtpd, Debian's python3-aiosmtpd).

Run as a separate process with the system Python (where Debian installs aiosmtpd):
    /usr/bin/python3 smtp_sink.py --port N --dir DIR [--auth USER:PASSWORD]
                                  [--tls-cert CERT --tls-key KEY [--implicit-tls]]
It accepts mail on 127.0.0.1:N and stores each message as DIR/<n>.json
({"mail_from", "rcpt_tos", "data"}), written to a temporary name and renamed so a reader never
sees half a file. With --auth it offers AUTH PLAIN/LOGIN and refuses mail from clients that
did not authenticate with that user and password. With --tls-cert it offers STARTTLS and
refuses mail on a connection that did not start TLS; with --implicit-tls as well, it speaks TLS
from the first byte instead (SMTPS). Prints "ready" once listening; runs until
SIGTERM or SIGINT.
"""

import argparse
import json
import os
import signal
import ssl
import threading
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Store:
    def __init__(self, directory, auth):
        self.directory = directory
        self.auth = auth
        self.count = len(os.listdir(directory))
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or envelope.content
        record = {"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
                  "data": data.decode("utf-8", "replace")}
        with self.lock:
            self.count += 1
            name = os.path.join(self.directory, f"{self.count:06d}.json")
        with open(name + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(name + ".tmp", name)
        return "250 Message accepted"


def authenticator_for(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
              and auth_data.password.decode() == password)
        return AuthResult(success=ok, handled=False)
    return authenticate


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--auth", default="")
    parser.add_argument("--tls-cert", default="")
    parser.add_argument("--tls-key", default="")
    parser.add_argument("--implicit-tls", action="store_true")
    args = parser.parse_args()
    auth = tuple(args.auth.split(":", 1)) if args.auth else None
    kwargs = {}
    # AUTH without TLS is what this loopback-only test server means to offer.
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    if auth:
        kwargs = {"authenticator": authenticator_for(*auth), "auth_require_tls": False,
                  "auth_required": True}
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        if args.implicit_tls:
            kwargs["ssl_context"] = context
        else:
            kwargs.update({"tls_context": context, "require_starttls": True})
    controller = Controller(Store(args.dir, auth), hostname="127.0.0.1", port=args.port,
                            **kwargs)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print("ready", flush=True)
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
