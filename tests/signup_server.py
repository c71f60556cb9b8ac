"""The subscription app served over real HTTP on loopback, with a clock the test moves.

Threaded wsgiref: each request gets its own thread, as with any real WSGI
server, so the app's state has to live in the database, not in the process.
"""

from __future__ import annotations

import email
import email.policy
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from zoneinfo import ZoneInfo

import pytest
from conftest import SiteFactory
from smtp_relay import ARTICLES, Relay, site_config

import syndicate
from syndicate._newsletter.webapp import SubscriptionApp

SECRET = "signup-secret-0123456789abcdef"
# Before the due time of smtp_relay.WEEK's issue (Friday 27 November 07:00, London).
SIGNUP_TIME = datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Europe/London"))
AFTER_DUE = datetime(2026, 11, 27, 8, 0, tzinfo=ZoneInfo("Europe/London"))


class Clock:
    """The app's ``now``: tests move it instead of sleeping."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


@dataclass
class Served:
    site_dir: Path
    site: syndicate.Site
    app: SubscriptionApp
    base: str  # http://127.0.0.1:PORT
    clock: Clock
    relay: Relay

    def request(
        self, path: str, body: bytes | None = None, content_type: str = "application/x-www-form-urlencoded"
    ) -> tuple[int, str, dict[str, str]]:
        req = urllib.request.Request(self.base + path, data=body, method="POST" if body is not None else "GET")
        if body is not None:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, timeout=10) as response:
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as exc:
            with exc:  # it holds the response's socket; closing it is ours
                return exc.code, exc.read().decode(), dict(exc.headers)

    def local(self, link: str) -> str:
        """A public link (https://test.example.org/confirm?token=...) as a path on the loopback server."""
        return "/" + link.split("://", 1)[1].split("/", 1)[1]


def confirmation_link(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    found = re.search(r"https://\S+/confirm\?token=\S+", body.get_content())
    assert found, body.get_content()
    return found.group(0)


def messages_to(relay: Relay, address: str) -> list[EmailMessage]:
    out = []
    for received in list(relay.received):
        if received.rcpt == address:
            parsed = email.message_from_bytes(received.data, policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            out.append(parsed)
    return out


def serve(make_site: SiteFactory, relay: Relay, extra: str = "") -> Iterator[Served]:
    site_dir = make_site(ARTICLES, config=site_config(relay.port, extra=extra))
    site = syndicate.Site.open(site_dir)
    clock = Clock(SIGNUP_TIME)
    app = SubscriptionApp(site.store, site.config, SECRET.encode(), clock=clock)
    server: WSGIServer = make_server("127.0.0.1", 0, app, server_class=_ThreadingServer, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(site_dir, site, app, f"http://127.0.0.1:{server.server_port}", clock, relay)
    finally:
        server.shutdown()
        server.server_close()
        site.close()


@pytest.fixture
def served(make_site: SiteFactory, relay: Relay, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    monkeypatch.setenv("SYNDICATE_SECRET", SECRET)
    yield from serve(make_site, relay)
